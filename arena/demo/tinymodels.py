"""Tiny llama models built on this machine in seconds, with nothing downloaded.

Used by the tests (real transformers and llama.cpp loading on real weights) and by ``arena demo``. The
recipe: a byte-level BPE tokenizer trained on local text (the shipped prompts and example answers), a
llama of a few hundred thousand parameters trained briefly on those answers in a chat format, saved as a
transformers checkpoint, and the very same weights written as a GGUF with gguf-py (f32 or Q8_0) so
llama.cpp and transformers can be compared token for token.

A short training run leaves a model that half-remembers its answers; a shorter one babbles. That is what
the demo wants: two local models that visibly differ, and whose failures the flags catch.

torch, transformers, tokenizers and gguf are imported inside the functions: this module is importable
without them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

BOS = "<s>"
EOS = "<|end|>"
PAD = "<pad>"
SPECIAL_TOKENS = [PAD, BOS, EOS, "<|system|>", "<|user|>", "<|assistant|>"]
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}<|{{ message['role'] }}|>\n{{ message['content'] }}<|end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


@dataclass(frozen=True)
class TinySpec:
    """Shape and training budget of one tiny model."""

    hidden: int = 64
    layers: int = 2
    heads: int = 4
    kv_heads: int = 2
    intermediate: int = 128
    vocab: int = 512
    context: int = 512
    train_steps: int = 150
    train_length: int = 192
    batch: int = 8
    seed: int = 0


def corpus() -> list[tuple[str, str]]:
    """(prompt, answer) pairs from the shipped prompt sets and the example recordings."""
    from arena.prompts import load_prompt_set

    everyday = {prompt.uid: prompt.text for prompt in load_prompt_set("everyday").prompts}
    pairs: list[tuple[str, str]] = []
    examples = resources.files("arena") / "examples" / "steady.jsonl"
    for line in examples.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["prompt_id"] in everyday:
            pairs.append((everyday[record["prompt_id"]], record["output"]))
    for prompt in load_prompt_set("constraints").prompts:
        pairs.append((prompt.text, "Here is my answer: " + prompt.text.split(".")[0].lower() + "."))
    return pairs


def chat_text(prompt: str, answer: str) -> str:
    return f"{BOS}<|user|>\n{prompt}{EOS}\n<|assistant|>\n{answer}{EOS}\n"


def build_tokenizer(texts: list[str], vocab: int) -> Any:
    """A byte-level BPE (the GPT-2 scheme llama.cpp calls 'gpt2') trained on ``texts``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()

    raw = Tokenizer(models.BPE())
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    raw.train_from_iterator(texts, trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=raw, bos_token=BOS, eos_token=EOS, pad_token=PAD)
    tokenizer.add_special_tokens({"additional_special_tokens": SPECIAL_TOKENS[3:]})
    return tokenizer


def build_model(spec: TinySpec, tokenizer: Any, pairs: list[tuple[str, str]]) -> Any:
    """A LlamaForCausalLM trained for ``spec.train_steps`` steps on the chat-formatted pairs."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(spec.seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=spec.hidden,
        intermediate_size=spec.intermediate,
        num_hidden_layers=spec.layers,
        num_attention_heads=spec.heads,
        num_key_value_heads=spec.kv_heads,
        max_position_embeddings=spec.context,
        rms_norm_eps=1e-5,
        tie_word_embeddings=False,
        bos_token_id=tokenizer.convert_tokens_to_ids(BOS),
        eos_token_id=tokenizer.convert_tokens_to_ids(EOS),
        pad_token_id=tokenizer.convert_tokens_to_ids(PAD),
    )
    model = LlamaForCausalLM(config)
    if spec.train_steps:
        texts = [chat_text(prompt, answer) for prompt, answer in pairs]
        batch = tokenizer(
            texts,
            add_special_tokens=False,
            padding=True,
            truncation=True,
            max_length=spec.train_length,
            return_tensors="pt",
        )
        labels = batch["input_ids"].clone()
        labels[batch["attention_mask"] == 0] = -100
        optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
        generator = torch.Generator().manual_seed(spec.seed)
        model.train()
        for _ in range(spec.train_steps):
            rows = torch.randperm(len(texts), generator=generator)[: spec.batch]
            loss = model(
                input_ids=batch["input_ids"][rows], attention_mask=batch["attention_mask"][rows], labels=labels[rows]
            ).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
        model.eval()
    return model


def save_hf(model: Any, tokenizer: Any, directory: Path, chat_template: bool = True) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    tokenizer.chat_template = CHAT_TEMPLATE if chat_template else None
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    if not chat_template:
        # save_pretrained may keep a template file from an earlier save; a base model has none
        for name in ("chat_template.jinja", "chat_template.json"):
            (directory / name).unlink(missing_ok=True)
    return directory


def _rope_theta(config: Any) -> float:
    """transformers 5 keeps the RoPE base in ``rope_parameters``; older versions in ``rope_theta``."""
    parameters = getattr(config, "rope_parameters", None) or {}
    return float(parameters.get("rope_theta", getattr(config, "rope_theta", 10000.0)))


def _permute(weights: Any, heads: int) -> Any:
    """HF stores q/k rows in rotate-half order; llama.cpp expects interleaved pairs."""
    return (
        weights.reshape(heads, 2, weights.shape[0] // heads // 2, *weights.shape[1:])
        .swapaxes(1, 2)
        .reshape(weights.shape)
    )


def write_gguf(model: Any, tokenizer: Any, path: Path, quant: str = "f32", chat_template: bool = True) -> Path:
    """The same weights and tokenizer as a llama GGUF (``quant`` is f32 or q8_0)."""
    import gguf
    import numpy as np

    config = model.config
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("vibe-arena tiny llama")
    writer.add_context_length(config.max_position_embeddings)
    writer.add_embedding_length(config.hidden_size)
    writer.add_block_count(config.num_hidden_layers)
    writer.add_feed_forward_length(config.intermediate_size)
    writer.add_rope_dimension_count(config.hidden_size // config.num_attention_heads)
    writer.add_head_count(config.num_attention_heads)
    writer.add_head_count_kv(config.num_key_value_heads)
    writer.add_layer_norm_rms_eps(config.rms_norm_eps)
    writer.add_rope_freq_base(_rope_theta(config))
    qtype = {"f32": gguf.GGMLQuantizationType.F32, "q8_0": gguf.GGMLQuantizationType.Q8_0}[quant]
    writer.add_file_type(gguf.LlamaFileType.ALL_F32 if quant == "f32" else gguf.LlamaFileType.MOSTLY_Q8_0)

    backend = json.loads(tokenizer.backend_tokenizer.to_str())
    vocab_size = len(tokenizer)
    tokens = [tokenizer.convert_ids_to_tokens(i) for i in range(vocab_size)]
    special = set(tokenizer.all_special_tokens)
    types = [gguf.TokenType.CONTROL if token in special else gguf.TokenType.NORMAL for token in tokens]
    merges = [merge if isinstance(merge, str) else " ".join(merge) for merge in backend["model"]["merges"]]
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("gpt-2")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    writer.add_bos_token_id(tokenizer.convert_tokens_to_ids(BOS))
    writer.add_eos_token_id(tokenizer.convert_tokens_to_ids(EOS))
    writer.add_pad_token_id(tokenizer.convert_tokens_to_ids(PAD))
    writer.add_add_bos_token(False)
    if chat_template:
        writer.add_chat_template(CHAT_TEMPLATE)

    state = {name: tensor.detach().float().numpy() for name, tensor in model.state_dict().items()}

    def add(name: str, array: Any, quantize: bool = True) -> None:
        array = np.ascontiguousarray(array, dtype=np.float32)
        if quantize and qtype != gguf.GGMLQuantizationType.F32 and array.ndim == 2:
            writer.add_tensor(name, gguf.quants.quantize(array, qtype), raw_dtype=qtype)
        else:
            writer.add_tensor(name, array)

    add("token_embd.weight", state["model.embed_tokens.weight"])
    for layer in range(config.num_hidden_layers):
        prefix = f"model.layers.{layer}."
        add(f"blk.{layer}.attn_norm.weight", state[prefix + "input_layernorm.weight"], quantize=False)
        add(
            f"blk.{layer}.attn_q.weight",
            _permute(state[prefix + "self_attn.q_proj.weight"], config.num_attention_heads),
        )
        add(
            f"blk.{layer}.attn_k.weight",
            _permute(state[prefix + "self_attn.k_proj.weight"], config.num_key_value_heads),
        )
        add(f"blk.{layer}.attn_v.weight", state[prefix + "self_attn.v_proj.weight"])
        add(f"blk.{layer}.attn_output.weight", state[prefix + "self_attn.o_proj.weight"])
        add(f"blk.{layer}.ffn_norm.weight", state[prefix + "post_attention_layernorm.weight"], quantize=False)
        add(f"blk.{layer}.ffn_gate.weight", state[prefix + "mlp.gate_proj.weight"])
        add(f"blk.{layer}.ffn_up.weight", state[prefix + "mlp.up_proj.weight"])
        add(f"blk.{layer}.ffn_down.weight", state[prefix + "mlp.down_proj.weight"])
    add("output_norm.weight", state["model.norm.weight"], quantize=False)
    add("output.weight", state["lm_head.weight"])
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


@dataclass(frozen=True)
class TinyModels:
    """Paths of one built family: the HF checkpoint, its GGUF twin, and a copy without chat template."""

    hf: Path
    gguf: Path
    hf_no_template: Path
    gguf_no_template: Path


def build_family(
    directory: Path, spec: TinySpec | None = None, quant: str = "f32", with_gguf: bool = True
) -> TinyModels:
    """Build (or reuse, when a previous build with the same spec finished) a tiny model family.

    ``with_gguf=False`` skips the GGUF twins, so only torch and transformers are needed (the demo).
    """
    spec = spec or TinySpec()
    marker = directory / "spec.json"
    wanted = json.dumps({**spec.__dict__, "quant": quant, "gguf": with_gguf}, sort_keys=True)
    family = TinyModels(
        hf=directory / "hf",
        gguf=directory / f"tiny-{quant}.gguf",
        hf_no_template=directory / "hf-no-template",
        gguf_no_template=directory / f"tiny-{quant}-no-template.gguf",
    )
    if marker.is_file() and marker.read_text() == wanted:
        return family
    import torch

    directory.mkdir(parents=True, exist_ok=True)
    pairs = corpus()
    texts = [chat_text(prompt, answer) for prompt, answer in pairs]
    with torch.random.fork_rng():
        tokenizer = build_tokenizer(texts, spec.vocab)
        model = build_model(spec, tokenizer, pairs)
    save_hf(model, tokenizer, family.hf, chat_template=True)
    save_hf(model, tokenizer, family.hf_no_template, chat_template=False)
    if with_gguf:
        write_gguf(model, tokenizer, family.gguf, quant=quant, chat_template=True)
        write_gguf(model, tokenizer, family.gguf_no_template, quant=quant, chat_template=False)
    marker.write_text(wanted)
    return family
