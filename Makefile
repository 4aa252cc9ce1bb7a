# make wheelhouse: every Python package the service needs, as wheels for THIS machine's
# architecture (run it on a Raspberry Pi with internet), for `install.sh --wheelhouse wheelhouse`
# on kits without internet. Copy the whole folder (with wheelhouse/) on a USB stick.
wheelhouse:
	/usr/bin/python3 -m venv /tmp/edge-wheel-venv
	/tmp/edge-wheel-venv/bin/pip install -q --upgrade pip wheel
	/tmp/edge-wheel-venv/bin/pip wheel -q --wheel-dir wheelhouse .

.PHONY: wheelhouse
