"""A loopback emulator of the hosted providers' wire protocols, rendering real media."""

from emulator.app import create_app
from emulator.config import EmulatorConfig, FaultKind, ModelSettings

__all__ = ["EmulatorConfig", "FaultKind", "ModelSettings", "create_app"]
