"""Small tables shipped with exposure: the O*NET task catalogue and the SOC 2010 -> 2018 crosswalk.

Load them through :mod:`exposure.occupations` (``load_tasks``, ``load_occupations``);
provenance and licences are in ``README.md`` next to this file, and
``python -m exposure.data.build`` rebuilds the files from the sources.
"""
