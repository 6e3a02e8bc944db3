"""The app's map: every page once (script, title, icon, URL path, what it teaches) and the guided challenges.

``app.py`` builds ``st.navigation`` from ``PAGES`` and Home builds its tour from it, so a page added here is in the
menu and in the tour at once, and the two cannot disagree. A challenge names one of these pages, the sidebar
settings it starts from (CLI names, as in a shared link).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from snn_core.methods.ttfs.presets import TTFS_PRESET


@dataclass(frozen=True)
class PageInfo:
    path: str                 # the script, relative to the repository root
    title: str
    icon: str
    teaches: str              # one line: what a learner takes away from the page
    url_path: str | None = None     # None: Streamlit derives it from the file name
    default: bool = False


PAGES = (
    PageInfo("app_pages/home.py", "Home", ":material/home:",
             "What a spiking neuron and a spiking network are, one live neuron, and a one-click start.", default=True),
    PageInfo("app_pages/playground.py", "Neuron playground", ":material/science:",
             "One LIF neuron and its dials (leak, threshold, reset, the spike cap K): watch the membrane charge, "
             "fire and reset, and read its f–I curve."),
    PageInfo("app_pages/train.py", "Train & watch", ":material/model_training:",
             "Play, pause and step the training of a whole network on digits, event clips or real recordings; "
             "loss, accuracy and every layer's firing rate move live (with PLIF on, each layer's learned time "
             "constant too)."),
    PageInfo("app_pages/explorer.py", "Spike explorer", ":material/grain:",
             "Open the trained network on one test sample: spike rasters, membrane traces against the threshold, "
             "and which channels fire when."),
    PageInfo("app_pages/recording.py", "Open a recording", ":material/upload_file:",
             "Read a real event-camera file (N-MNIST, Prophesee, iniVation, ...): its events over time, the frames "
             "a network sees, and the trained model's answer.", url_path="recording"),
    PageInfo("app_pages/compare.py", "Compare", ":material/balance:",
             "Is a change really better? Both settings train on the same seeds; paired differences with 95% "
             "confidence intervals say whether it is more than seed noise."),
    PageInfo("app_pages/asa.py", "Redundancy & ASA", ":material/filter_alt:",
             "Noise events make whole channels fire for nothing; watch Advance Spatial Attention gate their current "
             "and the firing rate drop.", url_path="redundancy"),
    PageInfo("app_pages/ttfs.py", "TTFS vs multi-spike", ":material/timer:",
             "Cap each neuron at K spikes: K = 1 answers with one spike's timing, more spikes buy accuracy and "
             "robustness at a cost in activity and latency."),
    PageInfo("app_pages/trt.py", "Temporal reversal (TRT)", ":material/history:",
             "Train on every clip played backwards too: a regulariser that helps shapes, and contradicts labels "
             "that are about direction."),
    PageInfo("app_pages/energy.py", "Cost & energy", ":material/bolt:",
             "A spike costs its fan-out: energy per sample from counted operations, and accuracy-vs-energy fronts "
             "that say whether a method shifts the trade-off or only moves along it.", url_path="energy"),
)


def page(path: str) -> PageInfo:
    """The page whose script is ``path``; ValueError naming the known scripts otherwise."""
    for info in PAGES:
        if info.path == path:
            return info
    raise ValueError(f"no page {path!r}; the pages are: {', '.join(p.path for p in PAGES)}")


@dataclass(frozen=True)
class Challenge:
    key: str                  # its id in a link (?challenge=key)
    title: str
    goal: str                 # what counts as done, shown on the page the challenge opens
    page: str                 # a script of PAGES
    settings: Mapping[str, str | int | float] = field(default_factory=dict)   # sidebar settings, CLI names


CHALLENGES = (                # each goal states the rule that snn_app.challenges checks on the page's own result
    Challenge("halve-rate", "Halve the firing rate, keep the accuracy",
              "Type a variant that halves NASFR (spikes per neuron per step) against the base while its accuracy "
              "drops by at most 1 point, then run the comparison. `asa=clean` is a start; try `threshold=`, "
              "`decay=` or `T=` too. Reached when a finished comparison of 2 or more seeds has the variant's mean "
              "NASFR at most half the base's, the mean paired accuracy change at −1 point or better, and a base "
              "that learned (at least chance + 20 points).",
              "app_pages/compare.py",
              {"dataset": "events-shape", "arch": "conv", "T": 4, "epochs": 3, "train-samples": 600,
               "test-samples": 200, "batch-size": 16, "lr": 0.01, "robustness": "off"}),
    Challenge("ttfs-k", "Find the K where TTFS stops losing accuracy",
              "Run the K sweep: from which spike cap K on is the accuracy no longer clearly below unlimited "
              "spiking (K = ∞)? What does that K cost in spikes per sample? \"Clearly below\": the 95% CI of the "
              "paired difference (K − ∞, seed by seed) lies under zero. Reached when a finished sweep of 2 or more "
              "seeds answers it.",
              "app_pages/ttfs.py", dict(TTFS_PRESET)),
    Challenge("trt-direction", "See what reversing time does to direction labels",
              "Train the sample network on events-direction with TRT and compare its answers on the clip and on "
              "the clip played backwards: does a left-moving clip become a right-moving one? Reached when the "
              "sample shown both ways comes from a network trained with TRT on events-direction.",
              "app_pages/trt.py", {"dataset": "events-direction", "trt": "on", "arch": "conv", "T": 4}),
    Challenge("small-net", "Shrink the network, keep 90%",
              "Train on digits with the smallest hidden layer that still reaches 90% test accuracy; use the "
              "network view's − buttons and Reset between tries. Reached when an MLP whose hidden layers have at "
              "most 16 neurons ends an epoch at 90% test accuracy or more (on 200 or more test samples); then "
              "try fewer.",
              "app_pages/train.py", {"hidden": "16", "epochs": 5, "lr": 0.01}),
)


def challenge(key: str) -> Challenge:
    """The challenge named ``key``; ValueError naming the known ones otherwise."""
    for item in CHALLENGES:
        if item.key == key:
            return item
    raise ValueError(f"no challenge {key!r}; the challenges are: {', '.join(c.key for c in CHALLENGES)}")
