"""Labs REST, live: open a workspace (an editor token for the Yjs channel), the feed
token, the grid, reset, lock, share, broadcast, check for credit, browser runs and the
timeline."""

from __future__ import annotations

import secrets
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response, status
from sqlalchemy import select

from lms.assessments.sandbox import run_code
from lms.audit.service import audit
from lms.auth import Principal
from lms.courses.roles import CourseAction
from lms.deps import PracticeThrottleDep, SandboxDep, SessionDep, SettingsDep
from lms.errors import Forbidden, InvalidInput, NotFound
from lms.labs import checks, closing, service, tokens, workspace_docs
from lms.labs.deps import LabsDep
from lms.labs.grid import tile_fields
from lms.labs.schemas import (
    ActivityIn,
    ActivityOut,
    ActivityPage,
    BroadcastIn,
    CheckIn,
    CheckOut,
    EditorOut,
    FeedOut,
    LabOut,
    LockIn,
    ShareIn,
    TileOut,
    TilePage,
)
from lms.labs.state import live_state
from lms.pagination import decode_cursor, encode_cursor, link_next
from lms.permissions import Permission, require
from persistence.models import Lab, LabActivity, LabWorkspace, User
from persistence.models.base import utcnow

router = APIRouter(prefix="/api/v1", tags=["labs"])
Reader = Annotated[Principal, Depends(require(Permission.COURSES_READ))]
Manager = Annotated[Principal, Depends(require(Permission.COURSES_MANAGE))]


async def _editor(
    session: SessionDep,
    settings: SettingsDep,
    lab: Lab,
    owner: uuid.UUID,
    holder: Principal,
    *,
    writable: bool,
) -> EditorOut:
    user = await session.get(User, holder.user_id)
    if user is None:
        raise NotFound("No such user.")
    name = workspace_docs.document_name(lab.id, owner)
    token = tokens.mint(
        audience=tokens.WORKSPACE_AUDIENCE,
        user_id=user.id,
        version=user.token_version,
        subject=name,
        secret=settings.secret_key,
        now=utcnow(),
    )
    return EditorOut(
        lab_id=lab.id,
        user_id=owner,
        document=name,
        token=token,
        url=f"/yjs/{name}?token={token}",
        files=[str(f["name"]) for f in lab.files],
        writable=writable,
    )


@router.post("/labs/{lab_id}/workspace", summary="Open my workspace")
async def open_my_workspace(
    lab_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: Reader,
    labs: LabsDep,
) -> EditorOut:
    """My own copy of the template (made on first open if I joined late), and an editor
    token for it: `WS /yjs/labs/{lab}/workspaces/{me}`."""
    lab, role = await service.reach(session, lab_id, principal, action=CourseAction.VIEW)
    service.learner_only(role)
    if lab.status == closing.ARCHIVED:
        raise NotFound("No such lab.")
    service.running(lab)
    had = await service.workspace_of(session, lab.id, principal.user_id)
    if had is None:
        await service.add_workspace(session, lab, principal.user_id, utcnow())
        audit(session, request, "labs.workspace.create", target_type="lab", target_id=lab.id)
    await session.commit()
    await service.seed(labs.registry, lab, principal.user_id)
    if had is None:
        await labs.changed(lab.id, principal.user_id)
    return await _editor(
        session, settings, lab, principal.user_id, principal, writable=not lab.locked
    )


@router.post("/labs/{lab_id}/workspaces/{user_id}/editor", summary="Open a learner's workspace")
async def open_workspace(
    lab_id: uuid.UUID,
    user_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    principal: Reader,
) -> EditorOut:
    """Instructors and TAs: any learner's workspace, to edit together. Learners: the
    workspace the instructor shares with the group, read-only."""
    lab, role = await service.reach(session, lab_id, principal, action=CourseAction.VIEW)
    closing.visible(lab, role)
    if await service.workspace_of(session, lab.id, user_id) is None:
        raise NotFound("No such workspace.")
    if role == "staff":
        writable = lab.status != closing.ARCHIVED
        return await _editor(session, settings, lab, user_id, principal, writable=writable)
    if role == "learner" and user_id == principal.user_id:
        return await _editor(session, settings, lab, user_id, principal, writable=not lab.locked)
    if role == "learner" and lab.shared_user_id == user_id:
        return await _editor(session, settings, lab, user_id, principal, writable=False)
    raise Forbidden("This workspace is not yours and not shared with the group.")


@router.post("/labs/{lab_id}/feed", summary="Open the lab's live feed")
async def feed_token(
    lab_id: uuid.UUID, session: SessionDep, settings: SettingsDep, principal: Reader
) -> FeedOut:
    """A token for `WS /ws/labs/{lab_id}`: lock, broadcast, share and queue for everyone;
    the live grid for instructors and TAs."""
    lab, role = await service.reach(session, lab_id, principal, action=CourseAction.VIEW)
    if role is None or (role == "learner" and lab.status == "draft"):
        raise Forbidden("Only the course's instructors, TAs and learners follow a lab.")
    closing.not_archived(lab)
    user = await session.get(User, principal.user_id)
    if user is None:
        raise NotFound("No such user.")
    token = tokens.mint(
        audience=tokens.FEED_AUDIENCE,
        user_id=user.id,
        version=user.token_version,
        subject=str(lab.id),
        secret=settings.secret_key,
        now=utcnow(),
    )
    return FeedOut(token=token, url=f"/ws/labs/{lab.id}?token={token}")


@router.get("/labs/{lab_id}/live", summary="The lab's live state")
async def read_live(lab_id: uuid.UUID, session: SessionDep, principal: Reader) -> dict[str, Any]:
    """Status, lock, shared workspace, last broadcast and the help queue's order."""
    lab, role = await service.reach(session, lab_id, principal, action=CourseAction.VIEW)
    closing.visible(lab, role)
    return await live_state(session, lab.id)


@router.get("/labs/{lab_id}/workspaces", summary="The grid of workspaces")
async def list_workspaces(
    lab_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Reader,
    sort: Literal["stuck", "name", "activity"] = "stuck",
    failing: bool = False,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
) -> TilePage:
    """Every learner's workspace: step, last check, last activity, help. ``stuck``: the
    longest since a step was completed first; ``failing``: only those whose last check
    failed. Paged in the sorted order (the cursor is the position)."""
    lab, _ = await service.reach(session, lab_id, principal, action=CourseAction.GRADE)
    users = list(
        await session.scalars(select(LabWorkspace.user_id).where(LabWorkspace.lab_id == lab.id))
    )
    fields = await tile_fields(session, lab.id, users)
    tiles = [
        TileOut(
            user_id=u,
            document=workspace_docs.document_name(lab.id, u),
            **{k: v for k, v in f.items()},
        )
        for u, f in fields.items()
    ]
    if failing:
        tiles = [t for t in tiles if t.last_check and not t.last_check.get("passed")]
    if sort == "stuck":
        tiles.sort(key=lambda t: (t.progressed_at, t.user_id))
    elif sort == "activity":
        tiles.sort(key=lambda t: (t.last_activity_at, t.user_id))
    else:
        tiles.sort(key=lambda t: (t.name.lower(), t.user_id))
    start = decode_cursor(cursor) or 0
    page = tiles[start : start + limit]
    following = encode_cursor(start + limit) if start + limit < len(tiles) else None
    link_next(request, response, following)
    return TilePage(items=page, next=following)


@router.post(
    "/labs/{lab_id}/workspaces/{user_id}/reset",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Reset a workspace to the template",
)
async def reset_workspace(
    lab_id: uuid.UUID,
    user_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Manager,
    labs: LabsDep,
) -> Response:
    """The template's text back in every template file (an edit: history and completions
    stay; the timeline says who reset it)."""
    lab, _ = await service.reach(session, lab_id, principal, action=CourseAction.GRADE)
    closing.not_archived(lab)
    workspace = await service.workspace_of(session, lab.id, user_id)
    if workspace is None:
        raise NotFound("No such workspace.")
    workspace.resets += 1
    await service.note_activity(
        session, lab.id, user_id, "reset", utcnow(), by=str(principal.user_id)
    )
    audit(
        session,
        request,
        "labs.workspace.reset",
        target_type="lab",
        target_id=lab.id,
        user=str(user_id),
    )
    await session.commit()
    await service.reset(labs.registry, lab, user_id)
    await labs.changed(lab.id, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/labs/{lab_id}/lock", summary="Lock everyone read-only (eyes on me)")
async def lock_lab(
    lab_id: uuid.UUID,
    body: LockIn,
    request: Request,
    session: SessionDep,
    principal: Manager,
    labs: LabsDep,
) -> LabOut:
    """While locked, learners' edits to their workspaces are refused by the server."""
    lab, role = await service.reach(session, lab_id, principal, action=CourseAction.GRADE)
    closing.not_archived(lab)
    lab.locked = body.locked
    audit(
        session, request, "labs.lab.lock", target_type="lab", target_id=lab.id, locked=body.locked
    )
    await session.commit()
    await labs.send(lab.id, {"type": "lock", "locked": lab.locked})
    return service.out(lab, role)


@router.post("/labs/{lab_id}/share", summary="Share a workspace with the group")
async def share_workspace(
    lab_id: uuid.UUID,
    body: ShareIn,
    request: Request,
    session: SessionDep,
    principal: Manager,
    labs: LabsDep,
) -> LabOut:
    """Every learner may then open that workspace read-only (null: stop sharing)."""
    lab, role = await service.reach(session, lab_id, principal, action=CourseAction.GRADE)
    closing.not_archived(lab)
    if (
        body.user_id is not None
        and await service.workspace_of(session, lab.id, body.user_id) is None
    ):
        raise InvalidInput("That learner has no workspace in this lab.")
    lab.shared_user_id = body.user_id
    audit(
        session,
        request,
        "labs.lab.share",
        target_type="lab",
        target_id=lab.id,
        user=str(body.user_id),
    )
    await session.commit()
    shared = str(body.user_id) if body.user_id else None
    document = workspace_docs.document_name(lab.id, body.user_id) if body.user_id else None
    await labs.send(lab.id, {"type": "share", "user_id": shared, "document": document})
    return service.out(lab, role)


@router.post("/labs/{lab_id}/broadcast", summary="Broadcast a hint or a snippet")
async def broadcast(
    lab_id: uuid.UUID,
    body: BroadcastIn,
    request: Request,
    session: SessionDep,
    principal: Manager,
    labs: LabsDep,
) -> LabOut:
    """Every learner sees it at once (a notice; a snippet can be inserted in their file)."""
    lab, role = await service.reach(session, lab_id, principal, action=CourseAction.GRADE)
    closing.not_archived(lab)
    lab.broadcast = {
        "id": secrets.token_hex(8),
        "kind": body.kind,
        "text": body.text,
        "file": body.file,
        "at": utcnow().isoformat(),
        "by": str(principal.user_id),
    }
    audit(session, request, "labs.lab.broadcast", target_type="lab", target_id=lab.id)
    await session.commit()
    await labs.send(lab.id, {"type": "broadcast", "broadcast": lab.broadcast})
    return service.out(lab, role)


@router.post("/labs/{lab_id}/check", summary="Check a step for credit")
async def check_step(
    lab_id: uuid.UUID,
    body: CheckIn,
    request: Request,
    session: SessionDep,
    principal: Reader,
    pool: SandboxDep,
    throttle: PracticeThrottleDep,
    labs: LabsDep,
) -> CheckOut:
    """The server runs the step's hidden tests against my file as it is now, in the
    sandbox; its result counts (completion, gradebook, progress). Throttled (429); 503
    when the sandbox's waiting line is full."""
    lab, role = await service.reach(session, lab_id, principal, action=CourseAction.VIEW)
    service.learner_only(role)
    service.running(lab)
    _, step = checks.step_of(lab, body.step_id)
    if await service.workspace_of(session, lab.id, principal.user_id) is None:
        raise InvalidInput("Open your workspace first.")
    me = principal.user_id
    throttle.take(str(me))
    file, definition = checks.file_of(lab, step), checks.definition_of(step)
    # No transaction (nor SQLite's write lock) while the code runs; nothing was written, and
    # a commit keeps the loaded rows (a rollback would expire them).
    await session.commit()
    code = await service.read_code(labs.registry, lab_id, me, file)
    run = await run_code(definition, code, pool=pool)
    result = await checks.record(session, lab, me, body.step_id, run, utcnow())
    audit(
        session,
        request,
        "labs.step.check",
        target_type="lab",
        target_id=lab.id,
        step=body.step_id,
        passed=result.passed,
    )
    await session.commit()
    await labs.changed(lab.id, me)
    return result


@router.post(
    "/labs/{lab_id}/activity",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Record a run in my browser",
)
async def record_activity(
    lab_id: uuid.UUID,
    body: ActivityIn,
    request: Request,
    session: SessionDep,
    principal: Reader,
    labs: LabsDep,
) -> Response:
    """A Pyodide run, for the timeline (kept at most every few seconds)."""
    lab, role = await service.reach(session, lab_id, principal, action=CourseAction.VIEW)
    service.learner_only(role)
    closing.visible(lab, role)
    if await service.workspace_of(session, lab.id, principal.user_id) is None:
        raise InvalidInput("Open your workspace first.")
    kept = await service.note_activity(
        session, lab.id, principal.user_id, body.kind, utcnow(), ok=body.ok
    )
    if kept:
        audit(session, request, "labs.workspace.run", target_type="lab", target_id=lab.id)
    await session.commit()
    if kept:
        await labs.changed(lab.id, principal.user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/labs/{lab_id}/timeline", summary="The lab's activity timeline")
async def timeline(
    lab_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Reader,
    user_id: uuid.UUID | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
) -> ActivityPage:
    """Joined, ran, checked, asked for help, helped, reset: per learner or all, oldest first
    (instructors and TAs)."""
    lab, _ = await service.reach(session, lab_id, principal, action=CourseAction.GRADE)
    query = select(LabActivity).where(LabActivity.lab_id == lab.id)
    if user_id is not None:
        query = query.where(LabActivity.user_id == user_id)
    after = decode_cursor(cursor)
    if after is not None:
        query = query.where(LabActivity.id > after)
    rows = list((await session.scalars(query.order_by(LabActivity.id).limit(limit + 1))).all())
    more = len(rows) > limit
    rows = rows[:limit]
    following = encode_cursor(rows[-1].id) if more and rows else None
    link_next(request, response, following)
    items = [
        ActivityOut(id=r.id, user_id=r.user_id, kind=r.kind, detail=r.detail, at=r.at) for r in rows
    ]
    return ActivityPage(items=items, next=following)
