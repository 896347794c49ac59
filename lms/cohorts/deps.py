"""The cohort routes' shared preamble as FastAPI dependencies: authenticate the caller,
load the cohort named in the path and check their standing in it (``lms.cohorts.access``).

A route names what it needs by type: ``Visible`` (anyone who may see the cohort),
``Facilitated`` (its facilitators, reading), ``Facilitating`` (its facilitators, writing)
or ``Managed`` (its managers). The principal dependencies are the same callables the
routes use, so FastAPI authenticates once per request.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from lms.auth import Principal
from lms.cohorts.access import Standing, standing
from lms.deps import SessionDep
from lms.permissions import Permission, require

Reader = Annotated[Principal, Depends(require(Permission.COURSES_READ))]
Manager = Annotated[Principal, Depends(require(Permission.COURSES_MANAGE))]


async def _visible(cohort_id: uuid.UUID, session: SessionDep, principal: Reader) -> Standing:
    return await standing(session, cohort_id, principal)


async def _facilitated(cohort_id: uuid.UUID, session: SessionDep, principal: Reader) -> Standing:
    found = await standing(session, cohort_id, principal)
    found.require_facilitate()
    return found


async def _facilitating(cohort_id: uuid.UUID, session: SessionDep, principal: Manager) -> Standing:
    found = await standing(session, cohort_id, principal)
    found.require_facilitate()
    return found


async def _managed(cohort_id: uuid.UUID, session: SessionDep, principal: Manager) -> Standing:
    found = await standing(session, cohort_id, principal)
    found.require_manage()
    return found


Visible = Annotated[Standing, Depends(_visible)]
Facilitated = Annotated[Standing, Depends(_facilitated)]
Facilitating = Annotated[Standing, Depends(_facilitating)]
Managed = Annotated[Standing, Depends(_managed)]
