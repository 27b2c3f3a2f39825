"""The static files' storage in production (``DEBUG=false``: ``PRODUCTION``): WhiteNoise's
hashed, compressed names, with ES module imports rewritten to the hashed names
too. The reader's modules import each other (``import … from "./api.js";``);
rewritten, every file of a release is cached for good and a page never mixes
modules of two releases."""

from __future__ import annotations

from whitenoise.storage import CompressedManifestStaticFilesStorage


class ManifestStaticFilesStorage(CompressedManifestStaticFilesStorage):
    support_js_module_import_aggregation = True
