"""Spike explorer: pick a test sample of the current model and look inside it, one spiking layer at a time.
A model saved by Train & watch opens here, and a saved run or config JSON sets the sidebar."""
import streamlit as st

from snn_app import downloads, explorer, saved, state, training
from snn_viz import sample_figures, style

state.start_session()       # no-op inside the app; lets the page run on its own (tests)
st.title("Spike explorer")
st.caption("Pick a test sample, then a spiking layer: see which neurons fire when, how their membranes "
           "climb to the threshold, and how busy each layer is compared with the whole test set.")
trainer = st.session_state.get("trainer")
with st.expander("Open saved work", expanded=trainer is None, icon=":material/folder_open:"):
    st.caption("A **model** (.safetensors) saved by Train & watch opens here, and the sidebar takes its settings; "
               "a **run or config JSON** (run.json, config.json, a compare or sweep JSON) sets the sidebar. "
               f"Files of up to {saved.MAX_UPLOAD_MB} MB.")
    upload, path = st.columns(2)
    upload.file_uploader("upload a saved file", type=list(saved.SUFFIXES), key="saved_upload",
                         on_change=saved.open_upload, max_upload_size=saved.MAX_UPLOAD_MB)
    path.text_input("or a file on this machine", key="saved_path", on_change=saved.open_path,
                    placeholder="e.g. ~/Downloads/model.safetensors",
                    help="a path the app's server can read; opened when you press Enter")
message = st.session_state.get("saved_message")
if message is not None:
    {"error": st.error, "warning": st.warning}.get(message[0], st.success)(message[1])
if trainer is None:
    st.info("No model yet: train one on the **Train & watch** page, then come back here to look inside it, "
            "or open a saved model above.")
    st.page_link("app_pages/train.py", label="Train & watch", icon=":material/model_training:")
    st.stop()


def chart(where, key: tuple, build) -> None:
    """A figure, built once per session for what it shows (``key``), in its own large fonts
    and colours; its toolbar exports it as SVG under the name of what it shows."""
    where.plotly_chart(state.memo_figure(("explorer", weights, *key), build),
                       config=style.plotly_config(f"explorer-{key[0]}-{'-'.join(str(part) for part in key[1:])}"))


def show_next_wrong(wrong: list[int]) -> None:
    """Button callback: move the sample picker to the next wrongly predicted test sample."""
    found = explorer.next_wrong(wrong, st.session_state.explorer_sample)
    if found is not None:
        st.session_state.explorer_sample = found


opened = saved.opened_model(trainer)
weights = explorer.weights_key(trainer, opened[1] if opened else "")
evaluation = explorer.test_evaluation(trainer, weights)
data, threshold = trainer.dataset, trainer.cfg.neuron.threshold
count = len(data.test_y)
source = f"opened from **{opened[0]}**" + (f", then {trainer.steps} more training steps" if trainer.steps else "") \
    if opened else f"after {trainer.steps} training steps"
st.caption(f"Model: {training.describe(trainer.cfg)}, {source}")

st.session_state.explorer_sample = min(st.session_state.get("explorer_sample", 0), count - 1)
pick, image, readout = st.columns([1, 1.1, 1.9])         # the readout's title fits at 1024 px
index = int(pick.number_input(f"test sample (0 to {count - 1})", 0, count - 1, key="explorer_sample",
                              persist_state="session"))
wrong = explorer.wrong_indices(evaluation.predictions, data.test_y)
pick.button("next wrong", on_click=show_next_wrong, args=(wrong,),
            disabled=not wrong, help="jump to the next test sample the model gets wrong",
            icon=":material/skip_next:")
traced = explorer.sample_trace(trainer, weights, index)
label, predicted = traced.labels[0], traced.predictions[0]
verdict = ":green[correct]" if predicted == label else ":red[wrong]"
pick.markdown(f"label **{data.class_names[label]}**, predicted **{data.class_names[predicted]}**: {verdict}")
pick.caption(f"{count - len(wrong)} of {count} test samples are predicted correctly.")
chart(image, ("input", index), lambda: sample_figures.input_sample(data, index))
chart(readout, ("readout", index),
      lambda: sample_figures.readout_over_time(traced.trace.logits[:, 0], data.class_names, label, predicted))

st.subheader("Inside one layer")
names = [layer.name for layer in traced.trace.layers]
if st.session_state.get("explorer_layer") not in names:
    st.session_state.explorer_layer = names[0]
which, follow = st.columns([1, 2])
name = which.radio("spiking layer", names, horizontal=True, key="explorer_layer", persist_state="session")
layer = traced.trace.layers[names.index(name)]
labels = sample_figures.neuron_names(layer)
neurons = follow.multiselect(
    "neurons to follow (membrane traces)", range(len(labels)), sample_figures.informative_neurons(layer),
    format_func=labels.__getitem__, max_selections=6, key=f"explorer_neurons_{name}_{index}", wrap=True,
    help="type a neuron index to find it; the defaults fire on some steps but not all")

raster, membrane = st.columns(2)
chart(raster, ("raster", index, name), lambda: sample_figures.spike_raster(layer))
chart(membrane, ("membrane", index, name, tuple(neurons)),
      lambda: sample_figures.membrane_traces(layer, threshold, neurons))
rate, channels = st.columns(2)
chart(rate, ("rate", index, name),
      lambda: sample_figures.rate_per_step(layer, 0, evaluation.activity.firing_rate_per_step[name]))
if sample_figures.has_channels(layer):
    chart(channels, ("channel-time", index, name), lambda: sample_figures.channel_rate_over_time(layer))
    chart(st, ("channel-maps", index, name), lambda: sample_figures.channel_rate_maps(layer))


def sample_result() -> dict:
    """What the page shows of this sample: label, prediction, readout per step and each layer's spike count."""
    return {"sample": index, "label": data.class_names[label], "predicted": data.class_names[predicted],
            "readout_per_step": traced.trace.logits[:, 0].tolist(),
            "spikes_per_layer": {each.name: int(each.spikes[:, 0].sum()) for each in traced.trace.layers}}


downloads.panel(f"sample-{index}-{name}", sample_result,
                lambda: downloads.spikes_rows(layer.spikes[:, 0].reshape(len(layer.spikes), -1).cpu().numpy(), labels),
                key="explorer_download")
