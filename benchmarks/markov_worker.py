"""One measurement for markov_speed.py, run in a fresh process inside the venv
where the rendered plugin is installed.

    python markov_worker.py {tutorial|template} {stream|text} WORDS LENGTH

Builds the corpus, imports llm and gets the model, then times one prompt and its
consumption and prints one JSON line: seconds, peak_mb and the words produced.

peak_mb is the peak resident set size during the prompt minus the resident set
size just before it. The peak is reset (Linux /proc/self/clear_refs) after the
corpus is built, so building it does not count; where that is not possible it is
ru_maxrss of the whole process.
"""

import gc
import json
import random
import resource
import string
import sys
import time

import llm
from common import kilobytes, reset_peak
from pydantic import Field

VOCABULARY_SIZE = 5_000


def make_corpus(words: int) -> str:
    """The same text every time: made-up words with Zipf-like frequencies."""
    rng = random.Random(0)
    vocabulary = [
        "".join(rng.choices(string.ascii_lowercase, k=rng.randint(2, 9)))
        for _ in range(VOCABULARY_SIZE)
    ]
    weights = [1 / rank for rank in range(1, VOCABULARY_SIZE + 1)]
    return " ".join(rng.choices(vocabulary, weights, k=words))


# The model of llm's plugin tutorial, as it stands at the tutorial's end.


def build_markov_table(text):
    words = text.split()
    transitions = {}
    for i in range(len(words) - 1):
        word = words[i]
        next_word = words[i + 1]
        transitions.setdefault(word, []).append(next_word)
    return transitions


def generate(transitions, length, start_word=None):
    all_words = list(transitions.keys())
    next_word = start_word or random.choice(all_words)
    for _ in range(length):
        yield next_word
        options = transitions.get(next_word) or all_words
        next_word = random.choice(options)


class TutorialMarkov(llm.Model):
    model_id = "markov-tutorial"
    can_stream = True

    class Options(llm.Options):
        length: int | None = Field(
            description="Number of words to generate", default=None
        )
        delay: float | None = Field(
            description="Seconds to delay between each token", default=None
        )

    def execute(self, prompt, stream, response, conversation):
        transitions = build_markov_table(prompt.prompt)
        length = prompt.options.length or 20
        for word in generate(transitions, length):
            yield word + " "
            if prompt.options.delay:
                time.sleep(prompt.options.delay)


# Measuring


def get_model(which: str) -> tuple[llm.Model, dict]:
    """The model and the options that make its output the same every run."""
    if which == "tutorial":
        return TutorialMarkov(), {}  # seeded with random.seed() instead
    return llm.get_model("markov"), {"seed": 1}


def prompt_and_consume(model, options, corpus, length, stream) -> str | int:
    """Run the prompt as a caller of llm's Python API does.

    Returns the number of chunks when streaming, the whole text otherwise.
    """
    random.seed(1)
    response = model.prompt(corpus, stream=stream, length=length, **options)
    if stream:
        chunks = 0
        for _chunk in response:
            chunks += 1
        return chunks
    return response.text()


def main(which: str, mode: str, words: int, length: int) -> None:
    corpus = make_corpus(words)
    model, options = get_model(which)
    gc.collect()
    peak_was_reset = reset_peak()
    before = kilobytes("VmRSS")

    start = time.perf_counter()
    output = prompt_and_consume(model, options, corpus, length, mode == "stream")
    seconds = time.perf_counter() - start

    peak = kilobytes("VmHWM") if peak_was_reset else None
    if peak is None:  # ru_maxrss is in kB on Linux
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = {
        "seconds": seconds,
        "peak_mb": (peak - (before or 0)) / 1024,
        # Counted after the peak was read, so that counting does not add to it.
        "words": output if isinstance(output, int) else len(output.split()),
        "peak_was_reset": peak_was_reset,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
