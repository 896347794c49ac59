"""The y-websocket protocol (Yjs sync and awareness) as pure functions and state machines."""
