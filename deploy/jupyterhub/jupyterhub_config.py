"""JupyterHub configuration of a class on one machine (`make hub`; book/class-on-jupyterhub.md).

Started by ``python -m course_grading.hub``, which creates the accounts, the shared nbgrader
exchange, the PostgreSQL gradebook and the settings file named by ``COURSE_HUB_SETTINGS``; this
file only turns those settings into JupyterHub's.
"""

import json
import os
from pathlib import Path

c = get_config()  # noqa: F821 - injected by JupyterHub

settings = json.loads(Path(os.environ["COURSE_HUB_SETTINGS"]).read_text())
state = Path(settings["state"])

# Only this machine: the hub, its proxy and every user's server listen on loopback.
c.JupyterHub.bind_url = f"http://127.0.0.1:{settings['port']}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = settings["hub_port"]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{settings['proxy_api_port']}"
c.ConfigurableHTTPProxy.command = [settings["proxy"]]
c.Spawner.ip = "127.0.0.1"

# The hub's own state (users, tokens), not the gradebook, which is PostgreSQL's.
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(state / "jupyterhub.pid")

# The machine's own accounts (PAM): one instructor, the students; nobody else may log in.
c.JupyterHub.authenticator_class = "pam"
c.Authenticator.allowed_users = set(settings["students"]) | {settings["instructor"]}
c.Authenticator.admin_users = {settings["instructor"]}

# Each user's server runs as that user, with the course environment as its Python and kernel.
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [settings["python"], "-m", "jupyterhub.singleuser"]
c.Spawner.default_url = "/lab"
c.Spawner.http_timeout = 120
c.Spawner.start_timeout = 120
c.Spawner.environment = {
    "PATH": f"{Path(settings['python']).parent}:/usr/local/bin:/usr/bin:/bin",
    "COURSE_ID": settings["course_id"],
    "COURSE_EXCHANGE": settings["exchange"],
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    **settings["python_environment"],
}


def by_role(spawner) -> None:
    """The instructor's server opens the course folder with the Formgrader; a student's, their
    home with the Assignments panel."""
    role = "instructor" if spawner.user.name == settings["instructor"] else "student"
    spawner.environment["JUPYTER_CONFIG_PATH"] = str(state / "jupyter" / role)
    if role == "instructor":  # started in the course folder: nbgrader reads its config there
        spawner.notebook_dir = settings["course"]
        spawner.cmd = ["/bin/sh", "-c", 'cd "$0" && exec "$@"', settings["course"], *c.Spawner.cmd]


c.Spawner.pre_spawn_hook = by_role

# A token for the course's own tools (tests, scripts): manage users, their servers and tokens.
c.JupyterHub.services = [{"name": "course-admin", "api_token": settings["admin_token"]}]
c.JupyterHub.load_roles = [{
    "name": "course-admin",
    "scopes": ["admin:users", "admin:servers", "tokens", "list:users"],
    "services": ["course-admin"],
}]
