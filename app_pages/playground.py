"""Neuron playground: drive one LIF neuron with an input current and watch its membrane and f–I curve."""
import math

import streamlit as st

from snn_app import downloads
from snn_core.config.run_config import cli_index
from snn_core.experiments import playground
from snn_core.neurons.lif import LIF_EQUATIONS, LIFParams
from snn_core.neurons.units import decay_from_tau, tau_from_decay
from snn_viz import neuron_figures
from snn_viz.style import PLOTLY_CONFIG

INPUT_LABELS = {"constant": "constant", "step": "step (off, then on)", "ramp": "ramp (0 up to the amplitude)",
                "noisy": "noisy (constant + Gaussian noise)", "poisson": "Poisson spike train × weight"}
AMPLITUDE_LABELS = {"constant": "current I", "step": "current after the onset", "ramp": "final current",
                    "noisy": "mean current"}


def field_spec(cli: str) -> dict:
    """The config field ``cli``'s spec (lo, hi, choices, help): the playground's bounds come from it."""
    return cli_index()[cli][1].metadata


TAU_MIN = math.ceil(4 * tau_from_decay(field_spec("decay")["lo"])) / 4   # shortest τ whose β the config allows
TAU_MAX = 20.0                                                            # beta = 0.951: nearly no leak
DEFAULTS = {"pg_input": "constant", "pg_T": 40, "pg_amplitude": 0.8, "pg_onset": 10, "pg_sigma": 0.3,
            "pg_rate": 0.3, "pg_weight": 0.6, "pg_seed": 0, "pg_tau": 1.5, "pg_threshold": 1.0,
            "pg_reset": "hard", "pg_v_reset": 0.0, "pg_k": 0}
for key, value in DEFAULTS.items():
    st.session_state.setdefault(key, value)


@st.cache_data(max_entries=64)
def simulate(input_name: str, params: LIFParams, steps: int, options: dict) -> playground.NeuronRun:
    return playground.simulate(input_name, params, steps, **options)


@st.cache_data(max_entries=64)
def fi_summary(params: LIFParams, steps: int, operating_current: float) -> playground.FICurve:
    return playground.fi_summary(params, steps, operating_current)


def spec_slider(label: str, cli: str, key: str, step, **kwargs):
    """A slider bounded by the config field ``cli``'s spec, with its help line."""
    spec = field_spec(cli)
    return st.slider(label, spec["lo"], spec["hi"], step=step, help=spec["help"], key=key, **kwargs)


def input_widgets(kind: str, steps: int) -> dict:
    """The options the chosen input generator reads, one widget each."""
    uses, options = playground.INPUT_OPTIONS[kind], {}
    if "amplitude" in uses:
        options["amplitude"] = st.slider(AMPLITUDE_LABELS[kind], 0.0, 3.0, step=0.05, key="pg_amplitude")
    if "onset_step" in uses:
        last = max(steps - 1, 1)
        st.session_state.pg_onset = min(st.session_state.pg_onset, last)      # T may have shrunk
        options["onset_step"] = st.slider("onset step (current switches on)", 0, last, key="pg_onset")
    if "noise_sigma" in uses:
        options["noise_sigma"] = st.slider("noise σ (standard deviation)", 0.0, 1.5, step=0.05, key="pg_sigma")
    if "rate_per_step" in uses:
        options["rate_per_step"] = st.slider("input rate (spikes per step)", 0.0, 1.0, step=0.05, key="pg_rate",
                                             help="probability that an input spike arrives on each step")
        options["weight"] = st.slider("synaptic weight (current per input spike)", 0.0, 3.0, step=0.05,
                                      key="pg_weight")
    if "seed" in uses:
        options["seed"] = st.number_input("seed", 0, 2**31 - 1, step=1, key="pg_seed",
                                          help="same seed, same random input")
    return options


st.title("Neuron playground")
st.caption("One leaky integrate-and-fire neuron, simulated instantly as you move the controls on the left. "
           "These controls belong to this page only; the run settings in the sidebar are for training.")
text, tips = st.columns([3, 2], gap="large")
text.markdown(
    "Each time step the neuron **leaks**: its membrane potential keeps a fraction β of what it had "
    "(a longer time constant τ means less leak) and then adds the input current. When the potential reaches "
    "the **threshold** V_th, the neuron fires a spike and **resets**: a *hard* reset sets the potential to "
    "V_reset, a *soft* reset subtracts V_th and keeps the rest. The **spike cap K** lets each neuron fire at "
    "most K times (K = 1: only the first spike counts).")
tips.info("**Try this:** raise the threshold and watch the f–I curve shift right; lengthen τ and weaker "
          "currents make the neuron fire; switch to soft reset and the steps of the f–I curve smooth out; "
          "choose the Poisson input and find the weight at which one input spike is enough to fire the neuron.")
st.latex(LIF_EQUATIONS)
st.caption("V: membrane potential (V^pre before the reset), I: input current, S: spike (0 or 1), Θ: step function, "
           "n: spikes so far, β: leak factor, V_th: threshold, V_reset: reset potential, K: spike cap (0 = none).")

controls, view = st.columns([3, 5], gap="large")        # controls stay readable at 1024 px
with controls.container(border=True):
    st.subheader("Input current")
    steps = spec_slider("time steps T", "T", "pg_T", 1)
    kind = st.selectbox("input kind", list(playground.INPUTS), format_func=INPUT_LABELS.get, key="pg_input")
    options = input_widgets(kind, steps)
    st.subheader("Neuron")
    tau_steps = st.slider("membrane time constant τ (steps)", TAU_MIN, TAU_MAX, step=0.25, key="pg_tau",
                          help="how many steps the membrane takes to forget about 63% of its potential")
    decay = decay_from_tau(tau_steps)
    st.caption(f"leak factor β = **{decay:.3f}**: each step the membrane keeps {decay:.1%} of its potential")
    threshold = spec_slider("threshold V_th", "threshold", "pg_threshold", 0.01)
    reset = st.radio("reset after a spike", field_spec("reset")["choices"], key="pg_reset", horizontal=True,
                     help=field_spec("reset")["help"])
    v_reset = spec_slider("reset potential V_reset", "v-reset", "pg_v_reset", 0.05, disabled=reset != "hard")
    cap = spec_slider("spike cap K (0 = unlimited)", "max-spikes", "pg_k", 1)

params = LIFParams(decay=decay, threshold=threshold, reset=reset, v_reset=v_reset, max_spikes=cap)
run = simulate(kind, params, steps, options)

columns = [*view.columns(2), *view.columns(2)]         # two rows of two: four in a row were cut at 1024 px
columns[0].metric("spikes", run.spike_count, help=f"spikes in the {steps} simulated steps")
columns[1].metric("firing rate (per step)", f"{run.rate_per_step:.3f}", help="spikes divided by time steps")
first = run.first_spike_step
columns[2].metric("first spike", "none" if first is None else f"step {first}")
columns[3].metric("mean input current", f"{run.mean_current:.3f}")

title = f"{INPUT_LABELS[kind].capitalize()} input → membrane potential"
view.plotly_chart(neuron_figures.neuron_traces(run, params, title), config=PLOTLY_CONFIG)
label = "this input" if kind == "constant" else "this input (mean current)"
curve = fi_summary(params, steps, run.mean_current)
view.plotly_chart(neuron_figures.fi_figure(curve, (run.mean_current, run.rate_per_step), label),
    config=PLOTLY_CONFIG)
with view:
    downloads.panel(f"neuron-{kind}", lambda: {"input": kind, "steps": steps, "neuron": params._asdict(),
                                               "spikes": run.spike_count, "rate_per_step": run.rate_per_step,
                                               "first_spike_step": run.first_spike_step},
                    lambda: [{"step": t, "current": float(run.current[t]), "v_pre": float(run.v_pre[t]),
                              "v_post": float(run.v_post[t]), "spike": int(run.spikes[t])} for t in range(steps)],
                    key="playground_download")
