"""The index folder: its layout and manifest, change planning, the build writer, read-only
snapshots, and the store that builds, validates and atomically swaps them."""
