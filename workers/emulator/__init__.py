"""A loopback emulator of the hosted providers' wire protocols, rendering real media."""

from workers.emulator.app import create_app
from workers.emulator.config import EmulatorConfig, FaultKind, ModelSettings

__all__ = ["EmulatorConfig", "FaultKind", "ModelSettings", "create_app"]
