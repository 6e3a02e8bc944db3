"""The run config: one frozen, validated, JSON-serialisable tree (``run_config``)."""
from .run_config import (
                         ALIASES,
                         DataConfig,
                         MethodsConfig,
                         ModelConfig,
                         NeuronConfig,
                         RunConfig,
                         Section,
                         TrainingConfig,
                         allowed_text,
                         check_value,
                         cli_index,
                         parse_assignments,
                         parse_value,
                         section_names,
                         spec,
)

__all__ = ["ALIASES", "DataConfig", "MethodsConfig", "ModelConfig", "NeuronConfig", "RunConfig", "Section",
           "TrainingConfig", "allowed_text", "check_value", "cli_index", "parse_assignments",
           "parse_value", "section_names", "spec"]
