"""nbgrader for the instructor on the class hub: the course's exchange. The server starts in
~/course, whose own nbgrader_config.py names everything else (the PostgreSQL gradebook too)."""

import os

c = get_config()  # noqa: F821 - injected by nbgrader

c.CourseDirectory.course_id = os.environ["COURSE_ID"]
c.Exchange.root = os.environ["COURSE_EXCHANGE"]
