"""SNN Explorer's entry point: page set-up, shared settings in the sidebar, URL state, navigation.

The pages, their titles and icons come from ``snn_app.pages.PAGES``, the list Home's tour is built from too.
A bad ``SNN_*`` environment setting is named at the top of every page (``settings.check_all``); the app keeps
working, and what reads the setting refuses it again where it is used (e.g. a run, against the memory budget)."""
import streamlit as st

from snn_app import pages, sidebar, state
from snn_app.text import escape_markdown
from snn_core import settings
from snn_core.runtime import DEFAULT_THREADS, configure_threads

st.set_page_config(page_title="SNN Explorer", page_icon=":material/bolt:", layout="wide")
for problem in settings.check_all():
    st.error(f"Environment setting: {escape_markdown(problem)} (README: Environment settings)")
try:
    configure_threads()    # before any page builds a network (see docs/PERFORMANCE.md)
except ValueError:         # a bad SNN_THREADS, named above: the app runs on the default
    configure_threads(DEFAULT_THREADS)
state.start_session()

page = st.navigation([st.Page(info.path, title=info.title, icon=info.icon, url_path=info.url_path,
                              default=info.default) for info in pages.PAGES])
with st.sidebar:
    state.publish_config(sidebar.render(st.session_state.config))
state.show_url_notices()
state.show_challenge(page.title)
page.run()
