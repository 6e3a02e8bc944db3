"""Train & inspect: choose a dataset and a network, train it, then look inside one test sample."""
import streamlit as st

from snn_app import session
from snn_viz import run_figures, sample_figures

st.session_state.setdefault("trainer", None)     # the trained run shown below; replaced only on success
st.session_state.setdefault("run_id", "")        # changes with every trained run; keys the cached traces
st.session_state.setdefault("sample", 0)         # the test sample looked inside; kept across runs


@st.cache_data(max_entries=64, show_spinner="Recording the sample...")
def sample_trace(_trainer, run_id: str, index: int):
    """Trace and prediction of one test sample of the run ``run_id`` (the trainer itself is not hashed)."""
    return session.sample_trace(_trainer, index)


def chart(where, figure) -> None:
    where.plotly_chart(figure, theme=None)     # keep the figures' own large fonts and layer colours


def choice(label: str, cli: str, **kwargs):
    spec = session.field_spec(cli)
    return st.selectbox(label, spec["choices"], index=spec["choices"].index(spec["default"]),
                        help=spec["help"], key=cli, **kwargs)


def number(label: str, cli: str, widget=st.number_input, **kwargs):
    spec = session.field_spec(cli)
    return widget(label, spec["lo"], spec["hi"], spec["default"], help=spec["help"], key=cli, **kwargs)


def sizes(label: str, cli: str, **kwargs):
    spec = session.field_spec(cli)
    return st.text_input(label, session.default_text(cli), help=f"{spec['help']}, e.g. 64,32", key=cli, **kwargs)


with st.sidebar:
    st.header("Run settings")
    values = {"dataset": choice("dataset", "dataset"), "arch": choice("architecture", "arch")}
    values["channels"] = sizes("conv channels", "channels", disabled=values["arch"] != "conv")
    values["hidden"] = sizes("hidden layer sizes", "hidden")
    values["T"] = number("time steps T", "T", widget=st.slider)
    values["epochs"] = number("epochs", "epochs")
    values["seed"] = number("seed", "seed")
    train_clicked = st.button("Train", type="primary", width="stretch", key="train")

st.title("Train & inspect")

if train_clicked:
    bar = st.progress(0.0, text="loading data and building the network...")
    try:
        trainer, run_id = session.new_run(values, lambda done, text: bar.progress(done, text=text))
    except ValueError as err:
        st.error(f"Could not train with these settings: {err}")
    else:
        st.session_state.trainer, st.session_state.run_id = trainer, run_id
    bar.empty()

trainer = st.session_state.trainer
if trainer is None:
    st.info("Choose a dataset and a network in the sidebar, then press **Train**.")
    st.stop()

evaluation = trainer.last_evaluation
activity = evaluation.activity
st.caption(f"Trained run: {session.describe(trainer.cfg)}, {trainer.train_seconds:.1f} s of training")
changed = session.changed_options(trainer.cfg, values)
if changed is None:
    st.warning("The sidebar settings are not valid; the results below are from the last trained run.")
elif changed:
    st.info(f"Sidebar settings changed ({', '.join(changed)}): press **Train** to apply them.")

columns = st.columns(4)
columns[0].metric("test accuracy", f"{evaluation.accuracy:.1%}", session.accuracy_change(trainer.history))
columns[1].metric("NASFR", f"{activity.nasfr:.4f}",
                  help="network-average spike firing rate: spikes per neuron per time step, over all layers")
columns[2].metric("spikes / sample", f"{activity.total_spikes_per_sample:,.0f}",
                  help="spikes of all layers for one test sample, averaged over the test set")
columns[3].metric("silent neurons", f"{activity.total_silent_fraction:.1%}",
                  help="neurons that never fired on any test sample")

left, right = st.columns(2)
chart(left, run_figures.firing_rate_bars(activity))
chart(right, run_figures.training_curves(trainer.history))

st.subheader("Inside one test sample")
test_count = len(trainer.dataset.test_y)
st.session_state.sample = min(st.session_state.sample, test_count - 1)
picker, image = st.columns([1, 2])
index = picker.number_input(f"test sample (0 to {test_count - 1})", 0, test_count - 1, key="sample")
trace, predicted = sample_trace(trainer, st.session_state.run_id, int(index))
label = int(trainer.dataset.test_y[index])
verdict = ":green[correct]" if predicted == label else ":red[wrong]"
picker.markdown(f"label **{trainer.dataset.class_names[label]}**, predicted "
                f"**{trainer.dataset.class_names[predicted]}**: {verdict}")
chart(image, sample_figures.input_sample(trainer.dataset, int(index), predicted))

threshold = trainer.cfg.neuron.threshold
for layer in trace.layers:
    raster, membrane = st.columns(2)
    chart(raster, sample_figures.spike_raster(layer))
    chart(membrane, sample_figures.membrane_traces(layer, threshold))
