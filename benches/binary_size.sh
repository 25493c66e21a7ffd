#!/usr/bin/env bash
# Size of the release binary people install (`cargo install` builds the release profile):
# builds it and prints its size in bytes and MiB.
# Usage: benches/binary_size.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin partnerctl
bytes=$(stat -c %s target/release/partnerctl)
python3 -c "import sys; b = int(sys.argv[1]); print(f'target/release/partnerctl: {b} bytes, {b / 2**20:.1f} MiB')" "$bytes"
