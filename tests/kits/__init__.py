"""The shared kits of the tests and benchmarks: real servers, nodes and clients.

``servers`` (liveclass, PostgreSQL), ``redis_server``, ``nodes`` (a node plus accounts),
``rooms`` (the room-channel client and REST helpers), ``opener`` (the room set-up
of a test: the ``open_room`` and ``rooms_on`` fixtures), ``rawsocket`` (a stalling WebSocket),
``yjs`` (classrooms, stock Yjs clients in Node, a raw y-websocket client), ``peers`` (aiortc
publishers and subscribers), ``cluster`` (nodes over one PostgreSQL and Redis), ``poison``
(panicking Yjs updates), ``logleaks`` (the token-in-logs plugin), ``stats`` (CPU, memory and
percentiles for benchmarks). Tests import them as ``kits.*`` (``tests/`` is on the path);
benchmarks put ``tests/`` on ``sys.path`` first (``bench/benchpath.py``).
"""
