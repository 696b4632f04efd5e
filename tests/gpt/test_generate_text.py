"""Generation that reads text: stop strings (as transformers), streamers, ``ptm gpt generate``."""

import subprocess
import sys
import threading

import pytest
import torch

from ptm_fast import ByteLevelBPETokenizer, assets
from ptm_fast.gpt import GPT, GPTConfig, TextIteratorStreamer, TextStreamer
from ptm_fast.gpt.generation import StopStrings

transformers = pytest.importorskip("transformers")


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models: more threads only fight over a busy machine's cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A byte-level BPE and a random GPT-2 of its vocabulary, saved together by transformers."""
    folder = tmp_path_factory.mktemp("gpt_text")
    texts = [text for _, text in assets.bbc_news()[:40]]
    bpe = ByteLevelBPETokenizer.train(texts=texts, vocab_size=320)
    bpe.save_pretrained(folder)
    eos = bpe.special_tokens["<|endoftext|>"]
    torch.manual_seed(0)
    config = transformers.GPT2Config(
        n_layer=2, n_head=2, n_embd=32, vocab_size=bpe.vocab_size, n_positions=64,
        initializer_range=0.5, bos_token_id=eos, eos_token_id=eos,
    )  # fmt: skip
    reference = transformers.GPT2LMHeadModel(config).eval()
    reference.save_pretrained(folder)
    return folder, bpe, reference, GPT.from_pretrained(folder).eval()


def test_stop_strings_stop_where_transformers_stops(saved):
    folder, bpe, reference, ours = saved
    hf_tok = transformers.PreTrainedTokenizerFast(tokenizer_file=str(folder / "tokenizer.json"))
    ids = torch.tensor([bpe.encode("The market said")])
    free = ours.generate(ids, max_new_tokens=20)[0, ids.shape[1] :].tolist()
    text = bpe.decode(free)
    stop = text[len(text) // 2 : len(text) // 2 + 2]  # two characters from the middle
    assert stop.strip(), text
    kwargs = {"max_new_tokens": 20, "stop_strings": [stop], "pad_token_id": 0}
    theirs = reference.generate(ids, do_sample=False, tokenizer=hf_tok, **kwargs)
    mine = ours.generate(ids, tokenizer=bpe, **kwargs)
    assert mine.tolist() == theirs.tolist()
    assert mine.shape[1] < ids.shape[1] + 20 and stop in bpe.decode(mine[0].tolist())


def test_stop_string_may_start_in_earlier_tokens_and_end_inside_the_last():
    class Chars:
        def decode(self, ids):
            return "".join(chr(ord("a") + i) for i in ids)

    stops = StopStrings(["cd"], Chars())
    assert stops.hit([0, 1, 2, 3])  # "abcd": "cd" spans the last two tokens
    assert not stops.hit([2, 3, 4])  # "cd" ended one token earlier: already caught then
    assert not stops.hit([0, 1, 2])


class Recorder:
    """A streamer that keeps what generate hands it."""

    def __init__(self):
        self.puts, self.ended = [], False

    def put(self, value):
        self.puts.append(value.clone())

    def end(self):
        self.ended = True


def test_streamer_gets_the_prompt_then_each_token(saved):
    _, bpe, _, ours = saved
    ids = torch.tensor([bpe.encode("Shares fell")])
    recorder = Recorder()
    out = ours.generate(ids, max_new_tokens=6, min_new_tokens=6, streamer=recorder)
    assert torch.equal(recorder.puts[0], ids) and recorder.ended
    assert [int(p) for p in recorder.puts[1:]] == out[0, ids.shape[1] :].tolist()


def test_text_streamer_prints_the_decoded_continuation(saved, capsys):
    _, bpe, _, ours = saved
    ids = torch.tensor([bpe.encode("Shares fell")])
    out = ours.generate(ids, max_new_tokens=12, streamer=TextStreamer(bpe, skip_prompt=True))
    printed = capsys.readouterr().out
    assert printed == bpe.decode(out[0, ids.shape[1] :].tolist()) + "\n"
    ours.generate(ids, max_new_tokens=12, streamer=TextStreamer(bpe))
    assert capsys.readouterr().out == bpe.decode(out[0].tolist()) + "\n"


def test_text_streamer_holds_back_a_character_split_across_tokens():
    class Bytes:
        def decode(self, ids):
            return bytes(ids).decode("utf-8", errors="replace")

    pieces = []
    streamer = TextStreamer(Bytes())
    streamer.on_finalized_text = lambda text, stream_end=False: pieces.append(text)
    streamer.put(torch.tensor([[ord("a")]]))
    for byte in "é!".encode():
        streamer.put(torch.tensor([byte]))
    streamer.end()
    assert pieces == ["a", "é", "!", ""]  # no U+FFFD for the first byte of é


def test_iterator_streamer_yields_the_text_in_another_thread(saved):
    _, bpe, _, ours = saved
    ids = torch.tensor([bpe.encode("The film")])
    streamer = TextIteratorStreamer(bpe, skip_prompt=True, timeout=60)
    result = {}

    def run():
        result["out"] = ours.generate(ids, max_new_tokens=10, streamer=streamer)

    worker = threading.Thread(target=run)
    worker.start()
    text = "".join(streamer)
    worker.join()
    assert text == bpe.decode(result["out"][0, ids.shape[1] :].tolist())


def test_streamer_refuses_beam_search(saved):
    _, bpe, _, ours = saved
    with pytest.raises(ValueError, match="streamer cannot be used with beam search"):
        ours.generate(torch.tensor([[1, 2]]), max_new_tokens=3, num_beams=2,
                      streamer=TextStreamer(bpe))  # fmt: skip


def ptm(*args):
    return subprocess.run(
        [sys.executable, "-m", "ptm_fast", *map(str, args)], capture_output=True, text=True
    )


def test_cli_beam_search_prints_the_best_beams(tmp_path):
    texts = [text for _, text in assets.bbc_news()[:30]]
    bpe = ByteLevelBPETokenizer.train(texts=texts, vocab_size=300)
    torch.manual_seed(0)
    config = GPTConfig(vocab_size=bpe.vocab_size, n_positions=64, n_embd=32, n_layer=1, n_head=2,
                       eos_token_id=bpe.special_tokens["<|endoftext|>"])  # fmt: skip
    model = GPT(config).eval()
    model.save_pretrained(tmp_path)
    bpe.save_pretrained(tmp_path)
    done = ptm("gpt", "generate", "The market", "--model", tmp_path, "--num-beams", "3",
               "--num-return-sequences", "2", "--max-length", "16", "--no-repeat-ngram-size",
               "2", "--early-stopping", "never", "--length-penalty", "0.5")  # fmt: skip
    assert done.returncode == 0, done.stderr
    ids = torch.tensor([bpe.encode("The market")])
    best = model.generate(ids, num_beams=3, num_return_sequences=2, max_length=16,
                          no_repeat_ngram_size=2, early_stopping="never",
                          length_penalty=0.5)  # fmt: skip
    expected = [bpe.decode(row.tolist(), skip_special_tokens=True) for row in best]
    assert done.stdout == "".join(text + "\n" for text in expected)
    refused = ptm("gpt", "generate", "The market", "--model", tmp_path, "--num-beams", "2",
                  "--num-return-sequences", "3")  # fmt: skip
    assert refused.returncode == 1 and "num_return_sequences" in refused.stderr
    streamed = ptm("gpt", "generate", "The market", "--model", tmp_path, "--stream",
                   "--max-new-tokens", "5")  # fmt: skip
    assert streamed.returncode == 0 and streamed.stdout.startswith("The market")
