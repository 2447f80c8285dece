"""nbgrader for a student on the class hub: the course's exchange, nothing else."""

import os

c = get_config()  # noqa: F821 - injected by nbgrader

c.CourseDirectory.course_id = os.environ["COURSE_ID"]
c.Exchange.root = os.environ["COURSE_EXCHANGE"]
