"""Train the reference model's byte-level BPE tokenizer (the `tokenizers` library)."""

from __future__ import annotations

from collections.abc import Iterable

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

EOS = "<|endoftext|>"
PAD = "<|pad|>"
# Reserved tokens never occur in training, so their rows stay untrained: real checkpoints ship
# such rows ([unusedN], <|reserved_special_token_N|>) and audits must recognise them.
RESERVED = tuple(f"<|reserved_{i}|>" for i in range(8))
SPECIAL_TOKENS = (EOS, PAD, *RESERVED)


def train_tokenizer(texts: Iterable[str], vocab_size: int) -> PreTrainedTokenizerFast:
    """A GPT-2-style byte-level BPE tokenizer fitted to ``texts``; deterministic for fixed input."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=EOS,
        eos_token=EOS,
        unk_token=EOS,
        pad_token=PAD,
        additional_special_tokens=list(RESERVED),
        model_max_length=1024,
        clean_up_tokenization_spaces=False,
    )
