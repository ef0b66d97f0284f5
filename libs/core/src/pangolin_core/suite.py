"""The apps of the suite, by name: what `pangolin up`, `serve` and `migrate` act on.

Services never import each other; only this registry (used by the CLI) knows them all, and
it names them by module so nothing is imported before it is needed.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pangolin_core.service import ServiceDefinition
    from pangolin_core.settings import ServiceSettings


@dataclass(frozen=True)
class SuiteApp:
    name: str
    package: str
    settings_class: str
    port_offset: int

    @property
    def factory(self) -> str:
        return f"{self.package}.app:create_app"

    @property
    def env_name(self) -> str:
        """`species-ref` -> `SPECIES_REF`."""
        return self.name.upper().replace("-", "_")

    @property
    def env_prefix(self) -> str:
        return f"PANGOLIN_{self.env_name}_"

    def definition(self) -> ServiceDefinition:
        module = importlib.import_module(f"{self.package}.app")
        definition: ServiceDefinition = module.DEFINITION
        return definition

    def settings(self, **values: object) -> ServiceSettings:
        module = importlib.import_module(f"{self.package}.settings")
        settings: ServiceSettings = getattr(module, self.settings_class)(**values)
        return settings


APPS: tuple[SuiteApp, ...] = (
    SuiteApp("gateway", "gateway", "GatewaySettings", 0),
    SuiteApp("species-ref", "species_ref", "SpeciesRefSettings", 1),
    SuiteApp("permit-verify", "permit_verify", "PermitVerifySettings", 2),
    SuiteApp("risk-score", "risk_score", "RiskScoreSettings", 3),
    SuiteApp("intel-share", "intel_share", "IntelShareSettings", 4),
)
SERVICES: tuple[SuiteApp, ...] = APPS[1:]


def app_named(name: str) -> SuiteApp:
    for app in APPS:
        if app.name == name:
            return app
    raise KeyError(f"no app {name!r}; the apps are: {', '.join(a.name for a in APPS)}")
