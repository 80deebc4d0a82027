"""Static files as production serves them (WhiteNoise): each file under a name
carrying its content hash (cached for a year, immutable), gzip-compressed
beside it, and the ES modules' own `import … from "./x.js"` rewritten to the
hashed names too, so a module and the `<link rel=modulepreload>` the page
names are one URL (one download), and a new release never runs a stale import."""

from __future__ import annotations

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    support_js_module_import_aggregation = True
