"""Staff accounts: the group that gives them a working admin console.

The group and its permissions are created by ``operations/migrations/0001_staff_group``
(its name is repeated there: migrations do not import application code).
"""

STAFF_GROUP = "Staff"
