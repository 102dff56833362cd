"""Tokenizer / embedding alignment: audit a candidate checkpoint against its baseline (or one
model alone) and repair its embedding tables for its tokenizer.

Finding codes (stable): structure ``config_vocab_size_mismatch``, ``token_ids_beyond_table``,
``table_larger_than_tokenizer``, ``output_head_shape_mismatch``, ``output_bias_shape_mismatch``,
``tie_config_mismatch``, ``output_head_missing``, ``tokenizer_config_mismatch``,
``tokenizer_files_disagree``, ``config_special_token_mismatch``,
``config_special_token_changed``, ``rows_not_finite``,
``output_rows_not_finite``; tokenizer diff
``normalizer_changed``, ``pre_tokenizer_changed``, ``decoder_changed``,
``post_processor_changed``, ``tokenizer_model_changed``, ``tokenizer_model_options_changed``,
``merges_changed``, ``loader_encoding_changed``, ``chat_template_changed``,
``special_token_changed``,
``special_token_id_changed``, ``tokens_added``, ``tokens_removed``, ``token_ids_changed``,
``added_tokens_changed``, ``segmentation_changed``; rows (``output_`` prefix for an untied head)
``rows_match``, ``rows_remapped``, ``rows_drifted``, ``rows_reinitialised``,
``new_rows_{zero,mean,random,from_pieces,copied,copied_unrelated,trained}``; single model
``reserved_rows``,
``beyond_vocabulary_rows``, ``unreachable_rows``, ``norm_tail_rows`` (the calibration used),
``reserved_rows_trained``, ``undertrained_tokens``, ``undertrained_skipped``; functional
``functional_loss``, ``functional_skipped``.
"""

from tripwire.tokens._audit import AuditReport, audit, audit_model
from tripwire.tokens._calibration import CHOICES as CALIBRATIONS
from tripwire.tokens._probe import ProbeText, builtin_probe, probe_corpus
from tripwire.tokens._repair import REPAIRABLE, RepairResult, repair
from tripwire.tokens._vocab import TokenizerView

__all__ = [
    "CALIBRATIONS",
    "REPAIRABLE",
    "AuditReport",
    "ProbeText",
    "RepairResult",
    "TokenizerView",
    "audit",
    "audit_model",
    "builtin_probe",
    "probe_corpus",
    "repair",
]
