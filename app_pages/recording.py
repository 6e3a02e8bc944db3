"""Open a recording: read one event file (or a zip of them), see its events and frames, and ask the trained model."""
from pathlib import Path

import streamlit as st

from snn_app import downloads, explorer, recording, state, training
from snn_app.text import escape_markdown
from snn_core.data.readers import describe
from snn_viz import recording_figures, sample_figures
from snn_viz.style import PLOTLY_CONFIG

state.start_session()       # no-op inside the app; lets the page run on its own (tests)
st.title("Open a recording")
st.caption(f"Read one event-camera or spike file the way the datasets are read ({', '.join(recording.SUFFIXES)}), "
           f"or a .zip of a folder of them, up to {recording.MAX_UPLOAD_MB} MB per upload. See its statistics, its "
           "events over time and the frames a network would see with the sidebar's settings; with a trained model "
           "in the session, the recording also runs through it.")


def chart(where, key: tuple, build) -> None:
    """A figure, built once per session for what it shows (``key``)."""
    where.plotly_chart(state.memo_figure(("recording", *key), build), config=PLOTLY_CONFIG)


pick_upload, pick_path = st.columns(2)
upload = pick_upload.file_uploader("upload an event file or a .zip", key="recording_upload",
                                   type=[suffix.lstrip(".") for suffix in recording.ACCEPTED],
                                   help=f"at most {recording.MAX_UPLOAD_MB} MB; a .zip may hold up to "
                                        f"{recording.MAX_ZIP_FILES:,} files and expand to {recording.MAX_ZIP_MB:,} MB")
samples = recording.bundled_samples()
example = recording.shown_path(recording.BUNDLED_SAMPLES / recording.EXAMPLE_SAMPLE) if samples else "camera.raw"
path_text = pick_path.text_input("or a file on this machine", key="recording_path", placeholder=f"e.g. {example}",
                                 help="a path the app's server can read (an event file or a .zip); an upload, "
                                      "when there is one, is shown instead")
if samples:                                 # the recordings bundled with the app: one of each format
    st.session_state.recording_sample = recording.sample_named(path_text, samples)
    pick_path.selectbox("or a sample recording bundled with the app", list(samples), index=None,
                        key="recording_sample", on_change=recording.use_sample, placeholder="choose a format",
                        help="real recordings shipped in data/samples (their sources and licences: "
                             "data/samples/SOURCES.md); picking one puts its path in the field above")
both = recording.source_in_use(upload, path_text)
if both:
    st.info(f"Showing the upload **{escape_markdown(both[0], 300)}**; the path **{escape_markdown(both[1], 300)}** "
            "is not used while a file is uploaded (remove the upload to open the path).")
try:
    opened = recording.current(upload, path_text)
except (ValueError, OSError) as problem:
    st.error(f"Cannot open it: {escape_markdown(str(problem), 2000)}")
    st.stop()
if opened is None:
    st.info("Upload a recording, type the path of one, or pick a bundled sample, to look inside it.")
    st.stop()

path = opened.files[0]
if len(opened.files) > 1:
    labels = [opened.label(file) for file in opened.files]
    chosen = st.selectbox(f"file in {escape_markdown(opened.name, 300)} ({len(labels):,} event files)", labels,
                          key="recording_member")          # a label is Markdown; the options are plain text
    path = opened.files[labels.index(chosen) if chosen in labels else 0]
try:
    stamp = recording.stamp(path)
    rec = recording.read(str(path), stamp)
    sample = 0
    if (rec.samples or 1) > 1:
        sample = int(st.number_input(f"sample (0 to {rec.samples - 1})", 0, rec.samples - 1, key="recording_sample"))
        rec = recording.read(str(path), stamp, sample) if sample else rec
except (ValueError, OSError) as problem:                    # the reader's message names the file and the problem
    st.error(f"Cannot read it: {escape_markdown(opened.shown(str(problem)), 2000)}")
    st.stop()

info = describe(rec)
key = (str(path), stamp, sample)
width, height, polarities = rec.sensor_size
duration_ms = info["duration_us"] / 1000
metrics = [*st.columns(3), *st.columns(3)]      # two rows of three: at projector width (1024 px) five truncated
metrics[0].metric("events", f"{info['events']:,}")
metrics[1].metric("duration", f"{duration_ms:,.1f} ms" if duration_ms < 1000 else f"{duration_ms / 1000:,.2f} s")
metrics[2].metric("sensor", f"{width}x{height}", help=recording.sensor_source(rec))
if polarities == 2:
    metrics[3].metric("ON events", f"{info['polarity_counts']['on']:,}", help="polarity 1: brighter")
    metrics[4].metric("OFF events", f"{info['polarity_counts']['off']:,}", help="polarity 0: darker")
else:
    metrics[3].metric("polarities", "1", help="one kind of spike (e.g. SHD's cochlea channels)")
details = [escape_markdown(opened.label(path) if opened.owner else info["file"], 300), f"format {info['format']}",
           f"{info['events'] / max(duration_ms, 0.001):,.1f} events per ms",
           f"timestamps {info['t_first']:,} to {info['t_last']:,} µs"]
if info["sorted_on_read"]:
    details.append("the file's timestamps were out of order and were sorted on reading")
if rec.samples:
    details.append(f"sample {sample} of {rec.samples}, label {rec.label}")
st.caption(" · ".join(details))

spec, note = recording.view_spec(st.session_state.config.data, rec.sensor_size)
framed = recording.frames(rec, key, spec, rec.sensor_size)
subtitle = f"the sidebar's framing: T {spec.time_steps}, {spec.event_frames}, {framed.shape[3]}x{framed.shape[2]}" + \
           ("; orange = ON, blue = OFF" if polarities == 2 else "")
events_chart, frames_chart = st.columns(2)
chart(events_chart, ("raster", key), lambda: recording_figures.event_raster(rec.events, rec.sensor_size))
chart(frames_chart, ("frames", key, spec), lambda: recording_figures.framed_recording(framed, subtitle))
if note:
    frames_chart.caption(f"The frames are {note}.")
downloads.panel(f"recording-{Path(info['file']).stem}", lambda: {**info, "frames": {
    "time_steps": spec.time_steps, "code": spec.event_frames, "shape": list(framed.shape[1:])}},
    lambda: [{"step": step, "polarity": polarity, "events": int(framed[step, polarity].sum())}
             for step in range(len(framed)) for polarity in range(framed.shape[1])], key="recording_download")

st.subheader("What the trained model says")
trainer = st.session_state.get("trainer")
if trainer is None:
    st.info("No model yet: train one on **Train & watch** (pick a real dataset such as nmnist in the sidebar; with "
            "nothing fetched it trains on the bundled samples), then come back to run this recording through it.")
    st.page_link("app_pages/train.py", label="Train & watch", icon=":material/model_training:")
    st.stop()
fit = recording.model_fit(rec, trainer)
if fit.reason:
    st.warning(fit.reason)
    st.stop()
weights = explorer.weights_key(trainer)
model_frames = recording.frames(rec, key, fit.spec, fit.sensor)
try:
    answer = recording.predict(trainer, weights, (key, fit.spec, fit.sensor), model_frames)
except ValueError as problem:                               # e.g. a gate that needs a batch of several samples
    st.error(f"The model cannot run this recording: {escape_markdown(str(problem), 2000)}")
    st.stop()
names = trainer.dataset.class_names
label = rec.label if rec.label is not None and 0 <= rec.label < len(names) else None
st.markdown(f"Predicted class **{escape_markdown(names[answer.predicted], 100)}** "     # folder names: user text
            f"(softmax of the readout: {answer.probabilities[answer.predicted]:.0%})"
            + (f"; the file's label is **{escape_markdown(names[label], 100)}**" if label is not None else ""))
st.caption(f"Model: {training.describe(trainer.cfg)}, after {trainer.steps} training steps; the recording is "
           f"framed with the model's settings ({recording.shape_text(tuple(model_frames.shape[1:]))} per step).")
readout, layer_pick = st.columns([3, 2])
chart(readout, ("readout", weights, key),
      lambda: recording_figures.readout_scores(answer.trace.logits[:, 0], names, answer.predicted, label))
names_of_layers = [layer.name for layer in answer.trace.layers]
if st.session_state.get("recording_layer") not in names_of_layers:
    st.session_state.recording_layer = names_of_layers[0]
name = layer_pick.radio("spiking layer", names_of_layers, horizontal=True, key="recording_layer")
layer = answer.trace.layers[names_of_layers.index(name)]
raster, rate = st.columns(2)
chart(raster, ("spikes", weights, key, name), lambda: sample_figures.spike_raster(layer))
chart(rate, ("rate", weights, key, name), lambda: sample_figures.rate_per_step(layer))
