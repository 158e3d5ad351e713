"""Realtime sessions: the wire protocol, this node's connections (hub), the broker between nodes
(bus), and the sink that carries services' events from commit to sockets."""
