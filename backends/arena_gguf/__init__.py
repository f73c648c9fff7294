"""GGUF backend through llama-cpp-python: ``gguf:model.Q4_K_M.gguf?n_gpu_layers=99&n_ctx=4096``.

Hub users can give ``gguf:owner/repo?filename=*Q4_K_M.gguf``. llama_cpp is imported only at load time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from arena.backend import BackendBase, Capabilities, Option

if TYPE_CHECKING:
    from arena.backend import Contestant
    from arena_gguf.model import GGUFModel


class GGUFBackend(BackendBase):
    """Registered as ``gguf``."""

    name = "gguf"
    description = "GGUF files through llama-cpp-python (CPU, CUDA, Metal)"
    extra = "gguf"
    requires: tuple[str, ...] = ("llama_cpp",)
    capabilities = Capabilities(thread_option="n_threads")
    options: ClassVar[dict[str, Option]] = {
        "template": Option(
            bool, "false: ignore the model's chat template and send a raw completion prompt (to see the damage)"
        ),
        "chat_template": Option(
            str, "a chat template for a GGUF without one (or with a wrong one): chatml, llama3, or a Jinja file"
        ),
        "n_gpu_layers": Option(int, "layers to offload to the GPU (-1: all)", affects_output=False),
        "n_ctx": Option(
            int, "context length (default 4096, or the model's own if less; 0: the model's own)", affects_output=False
        ),
        "n_threads": Option(int, "CPU threads for this model", affects_output=False),
        "filename": Option(str, "with a hub repo as target: the GGUF file (glob) to fetch"),
    }

    def load(self, contestant: Contestant) -> GGUFModel:
        from arena_gguf.model import GGUFModel

        return GGUFModel.load(contestant)
