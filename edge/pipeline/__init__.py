"""The document pipeline: jobs, their durable queue, page encoding, PDF assembly and storage."""
