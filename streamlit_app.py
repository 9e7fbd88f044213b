"""The Streamlit entrypoint (`streamlit run streamlit_app.py`): runs dashboards/app.py.

Not dashboards/app.py itself: Streamlit reads a `pages/` folder beside its entrypoint as a
legacy multipage app until some session calls st.navigation, so the first link to a page after
a restart (`/clients`) ran that page's script directly, bypassing the app's sign-in and
navigation. Run from here, the only pages are those app.py gives st.navigation."""

import runpy
from pathlib import Path

runpy.run_path(str(Path(__file__).parent / "dashboards" / "app.py"), run_name="__main__")
