"""The Streamlit app's own code; ``app.py`` at the root is its door.

``app.py`` turns the widgets into a ``Policy`` and a ``Catalog``, calls the planner's
pipeline (through Streamlit's caches) and hands the results to ``views``. Every module here
but ``views`` is plain Python without Streamlit, tested with plain pytest:

    text      words and numbers for the page: money, counts, the policy line, summaries
    cards     the headline numbers of a plan (label, value, comparison, help)
    charts    Vega-Lite chart specs: utilization per host, cost comparison, curves, rules
    frames    the tables the page shows: problems of a file, VMs as read, placement filters
    editors   the catalog as the app edits it: the edited tables back into a ``Catalog``
    views     Streamlit: draws the above (the only module here that imports Streamlit)

The numbers come from ``planner`` (``planner.dedicated.compare``, ``planner.report.tables``);
this package only formats and draws them. It holds no planning logic.
"""
