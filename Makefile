# make wheelhouse: every Python package the service needs, as wheels for THIS machine's
# architecture (run it on a Raspberry Pi with internet), for `install.sh --wheelhouse wheelhouse`
# on kits without internet. Copy the whole folder (with wheelhouse/) on a USB stick.
wheelhouse:
	/usr/bin/python3 -m venv /tmp/edge-wheel-venv
	/tmp/edge-wheel-venv/bin/pip install -q --upgrade pip wheel
	/tmp/edge-wheel-venv/bin/pip wheel -q --wheel-dir wheelhouse .

.PHONY: wheelhouse

# make release KEY=path/minisign.key: dist/edge-<version>-<arch>.tar for amd64 and arm64, signed
# (a key made once with `minisign -G -W -p edge-release.pub -s edge-release.key`, kept by the
# province; its public key goes in [update] public_key). Version from the git tag (v0.2.0).
release:
	@test -n "$(KEY)" || { echo "make release KEY=path/to/minisign.key (see README)"; exit 2; }
	.venv/bin/python -m edge.release.build --key "$(KEY)" $(if $(ARCH),--arch $(ARCH))

.PHONY: release
