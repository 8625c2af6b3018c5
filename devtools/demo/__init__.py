"""The demo/fixture job site: fictional companies in real ATS shapes, served on 127.0.0.1."""
