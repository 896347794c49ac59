"""Video: an uploaded file becomes an HLS ladder (renditions, master playlist, poster,
thumbnail strip) in a worker process, plus WebVTT caption tracks per language.

``ladder`` plans (pure), ``probe`` reads what a file holds, ``transcode`` encodes (PyAV),
``playlist`` writes the master playlist, ``thumbnails`` the poster and seek previews,
``process`` runs the work in a child process (``worker``) the server can kill, ``captions``
validates uploaded WebVTT. Nothing here touches the database or HTTP.
"""
