"""Documents REST: read room documents, save and restore named versions, delete."""
