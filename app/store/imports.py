"""CSV imports waiting for, or going through, their confirmation (app.spreadsheets).

Lambda keeps nothing between requests, and 2,000 parsed rows do not fit in one 400 KB item: an
upload is a header item (counts, state, progress) and chunk items of up to 100 rows each, all
in the team's partition and gone a day later (TTL; reads ignore an expired one). Confirming
writes one chunk per request: the request first claims it with a lease (a conditional update
of the header), so two tabs confirming at once never write the same chunk twice, and a request
that dies mid-chunk leaves a lease that expires (the chunk's posts already written are then
found in place, their writes being conditional).
"""

import json
from collections.abc import Iterable
from datetime import datetime, timedelta

from app.store import Conflict, keys, lost_conditions_raise, people
from app.store.models import CsvImport, CsvImportChunk, Post, PostBody

KEPT_FOR = timedelta(days=1)
LEASE = timedelta(seconds=60)  # API Gateway answers within 29 s: a live request is done by then
BATCH_KEYS = 100  # BatchGetItem's limit


class ImportBusy(Conflict):
    """Another request holds the chunk, or wrote it already."""


def new_import(team_id: str, *, created_by: str, now: datetime, **attributes) -> CsvImport:
    import_id = keys.new_id()
    return CsvImport(
        *CsvImport.key(team_id, import_id),
        team_id=team_id,
        import_id=import_id,
        created_by=created_by,
        created_at=now,
        expires_at=now + KEPT_FOR,
        **attributes,
    )


def save(header: CsvImport, chunks: list[list[dict]]) -> None:
    """Write an upload's chunks, then its header (a header is only ever seen whole)."""
    with CsvImportChunk.batch_write() as batch:
        for number, rows in enumerate(chunks):
            batch.save(_chunk(header, number, rows))
    header.chunk_count = len(chunks)
    header.save(condition=CsvImport.pk.does_not_exist())


def save_chunk(header: CsvImport, number: int, rows: list[dict]) -> None:
    """Rewrite a claimed chunk with rows its confirmation left out (their reasons in them)."""
    _chunk(header, number, rows).save()


def _chunk(header: CsvImport, number: int, rows: list[dict]) -> CsvImportChunk:
    return CsvImportChunk(
        *CsvImportChunk.key(header.team_id, header.import_id, number),
        rows=encode(rows),
        expires_at=header.expires_at,
    )


def encode(rows: list[dict]) -> str:
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":"))


def load(team_id: str, import_id: str, now: datetime) -> CsvImport | None:
    """An import's header: one GetItem; None if there is none (or it expired)."""
    try:
        found = CsvImport.get(*CsvImport.key(team_id, import_id), consistent_read=True)
    except CsvImport.DoesNotExist:
        return None
    return found if found.expires_at > now else None


def load_with_rows(team_id: str, import_id: str, now: datetime) -> tuple[CsvImport, list] | None:
    """An import's header and every row, in file order: one Query (sk begins_with
    IMPORT#<id>: the header sorts before its chunks)."""
    header, rows = None, []
    prefix = CsvImport.key(team_id, import_id)[1]
    raw_items = CsvImport.query(
        keys.team(team_id), CsvImport.sk.startswith(prefix), consistent_read=True
    )
    raw_items._map_fn = lambda raw: raw  # two models in one answer: read them by their sk
    for raw in raw_items:
        if raw["sk"]["S"] == prefix:
            header = CsvImport.from_raw_data(raw)
        else:
            rows.extend(json.loads(raw["rows"]["S"]))
    if header is None or header.expires_at <= now:
        return None
    return header, rows


def chunk(team_id: str, import_id: str, number: int) -> list[dict]:
    found = CsvImportChunk.get(
        *CsvImportChunk.key(team_id, import_id, number), consistent_read=True
    )
    return json.loads(found.rows)


def claim(header: CsvImport, now: datetime, holder: str) -> int:
    """Take the next chunk to write for LEASE, as ``holder``; ImportBusy if another request
    holds it or the import is done. A claim whose answer was lost (DynamoDB applied it, the
    retry met its own lease) is still the holder's."""
    number = int(header.chunks_done)
    if number >= header.chunk_count:
        raise ImportBusy("the import is done")
    free = CsvImport.lease_until.does_not_exist() | (CsvImport.lease_until < now)
    try:
        with lost_conditions_raise(ImportBusy("another request is importing this batch")):
            header.update(
                actions=[
                    CsvImport.lease_until.set(now + LEASE),
                    CsvImport.lease_holder.set(holder),
                    CsvImport.state.set("importing"),
                ],
                condition=(CsvImport.chunks_done == number) & free,
            )
    except ImportBusy:
        header.refresh(consistent_read=True)
        if header.lease_holder != holder or header.chunks_done != number:
            raise
    return number


def finish_chunk(
    header: CsvImport,
    number: int,
    holder: str,
    *,
    created: int,
    found: int,
    left_out: int,
    rows: int,
) -> None:
    """Mark a claimed chunk written with its counts (conditional on the claim still holding);
    the last one finishes the import."""
    last = number + 1 >= header.chunk_count
    try:
        with lost_conditions_raise(ImportBusy("the batch's lease ran out")):
            header.update(
                actions=[
                    CsvImport.chunks_done.set(number + 1),
                    CsvImport.created.add(created),
                    CsvImport.found.add(found),
                    CsvImport.left_out.add(left_out),
                    CsvImport.rows_done.add(rows),
                    CsvImport.lease_until.remove(),
                    CsvImport.lease_holder.remove(),
                    CsvImport.state.set("done" if last else "importing"),
                ],
                condition=(CsvImport.chunks_done == number) & (CsvImport.lease_holder == holder),
            )
    except ImportBusy:
        header.refresh(consistent_read=True)
        if header.chunks_done <= number:  # not a lost answer to this very update
            raise


def release(header: CsvImport, number: int, holder: str) -> None:
    """Give a claimed chunk back after a failure, so that trying again need not wait."""
    with lost_conditions_raise(ImportBusy("the batch's lease ran out")):
        header.update(
            actions=[CsvImport.lease_until.remove(), CsvImport.lease_holder.remove()],
            condition=(CsvImport.chunks_done == number) & (CsvImport.lease_holder == holder),
        )


def existing_posts(team_id: str, post_ids: Iterable[str]) -> dict[str, str]:
    """Which of these post ids exist in the team (trashed ones too), each with the id of the
    import that wrote it ("" if none did): BatchGetItem, 100 keys a call."""
    wanted = sorted(set(post_ids))
    found = {}
    for start in range(0, len(wanted), BATCH_KEYS):
        batch = [Post.key(team_id, post_id) for post_id in wanted[start : start + BATCH_KEYS]]
        for raw in people.batch_get({Post.Meta.table_name: batch}):
            found[raw["post_id"]["S"]] = raw.get("import_id", {}).get("S", "")
    return found


def bodies(team_id: str, post_ids: Iterable[str]) -> dict[str, PostBody]:
    """The bodies of these posts, by post id: BatchGetItem, 100 keys a call (a post written
    without one reads as empty)."""
    wanted = list(dict.fromkeys(post_ids))
    found = {}
    for start in range(0, len(wanted), BATCH_KEYS):
        batch = [PostBody.key(team_id, post_id) for post_id in wanted[start : start + BATCH_KEYS]]
        for raw in people.batch_get({PostBody.Meta.table_name: batch}):
            found[raw["sk"]["S"].removeprefix("BODY#")] = PostBody.from_raw_data(raw)
    return found
