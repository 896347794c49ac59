"""Course files: tus uploads into the blob store, the files API and signed downloads."""
