"""The broker bridge: CloudEvents in from RabbitMQ or NATS JetStream to messages, thrown messages out via an outbox."""

from .config import BridgeConfig, Inbound, Outbound, load_bridge_config, parse_bridge_config
from .service import BridgeHandle, BridgeStats, start_bridge

__all__ = ["BridgeConfig", "BridgeHandle", "BridgeStats", "Inbound", "Outbound", "load_bridge_config",
           "parse_bridge_config", "start_bridge"]
