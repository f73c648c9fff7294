"""transformers backend: hub ids or local checkpoints on CUDA, MPS or CPU, with bitsandbytes int8 / nf4 / fp4.

``hf:Qwen/Qwen2.5-0.5B-Instruct?quant=nf4`` or ``hf:./my-checkpoint?device=cpu&dtype=float32``. torch and
transformers are imported only when a model is loaded, so registering this backend costs nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from arena.backend import BackendBase, Capabilities, Option

if TYPE_CHECKING:
    from arena.backend import Contestant
    from arena_hf.model import HFModel
    from arena_hf.reward import RewardModel


class HFBackend(BackendBase):
    """Registered as ``hf``."""

    name = "hf"
    description = "transformers + torch (CUDA, MPS, CPU), bitsandbytes int8 / nf4 / fp4"
    extra = "hf"
    requires: tuple[str, ...] = ("torch", "transformers")
    capabilities = Capabilities(thread_option="threads", reward_models=True)
    options: ClassVar[dict[str, Option]] = {
        "template": Option(
            bool, "false: ignore the model's chat template and send a raw completion prompt (to see the damage)"
        ),
        "device": Option(str, "auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps", affects_output=False),
        "dtype": Option(
            str,
            "weights dtype (default: bf16 on CUDA where supported, fp16 on MPS, fp32 on CPU)",
            choices=("auto", "float32", "float16", "bfloat16"),
        ),
        "quant": Option(str, "bitsandbytes quantization", choices=("none", "int8", "nf4", "fp4")),
        "compute_dtype": Option(str, "compute dtype for 4-bit layers", choices=("float32", "float16", "bfloat16")),
        "double_quant": Option(bool, "nested quantization of the 4-bit scales"),
        "trust_remote_code": Option(bool, "run the checkpoint's own Python code (off unless you ask)"),
        "revision": Option(str, "hub revision (branch, tag or commit)"),
        "threads": Option(int, "torch CPU threads (process-wide)", affects_output=False),
    }

    def default_label(self, target: str, options: Mapping[str, Any]) -> str | None:
        """A GGUF file loaded by transformers is dequantized: the same file in two engines gets two labels."""
        name = target.rstrip("/").rsplit("/", 1)[-1]
        return f"{name[: -len('.gguf')]}@{self.name}" if name.lower().endswith(".gguf") and len(name) > 5 else None

    def load_note(self, contestant: Contestant) -> str | None:
        if contestant.target.lower().endswith(".gguf"):
            return "a GGUF in transformers is converted once, on its first load: a minute or more"
        return None

    def load_reward(self, contestant: Contestant) -> RewardModel:
        from arena_hf.reward import RewardModel

        return RewardModel.load(contestant)

    def load(self, contestant: Contestant) -> HFModel:
        from arena_hf.model import HFModel

        return HFModel.load(contestant)


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (or its type), short enough for a one-line error."""
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
