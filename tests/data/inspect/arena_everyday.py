from inspect_ai import Task, task
from inspect_ai.dataset import json_dataset
from inspect_ai.scorer import includes
from inspect_ai.solver import generate


@task
def arena_everyday():
    return Task(dataset=json_dataset("everyday_inspect.jsonl"), solver=[generate()], scorer=includes())
