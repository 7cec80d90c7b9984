"""Where the vendors' published API specs are: `shared/vendor-specs` beside the repository.

CI clones the repository anywhere, with `shared/` beside the clone, so the path is found
relative to this file, never as an absolute path.
"""

from pathlib import Path

VENDOR_SPECS = Path(__file__).resolve().parents[1].parent / "shared" / "vendor-specs"

if not VENDOR_SPECS.is_dir():
    raise RuntimeError(f"vendor specs not found at {VENDOR_SPECS}: shared/ must sit beside "
                       f"the repository")
