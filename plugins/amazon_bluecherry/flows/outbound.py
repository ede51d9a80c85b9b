"""Stage documents for Amazon: X12 bytes, control numbers and file name in one DB transaction.

Stored before sent: the upload task sends whatever is ``pending``; a crash between the
two loses nothing and sends nothing twice (the mailbox upload skips ``sent`` documents).
Control numbers come from the store's sequences inside the same transaction, so a
failure gives them back and the sequences stay gap-free.
"""

from __future__ import annotations

from dataclasses import dataclass

from amazon_bluecherry.edi.build import write_documents
from amazon_bluecherry.edi.documents import Document
from amazon_bluecherry.edi.reader import read_interchanges
from amazon_bluecherry.edi.writer import Party
from amazon_bluecherry.settings import Settings
from amazon_bluecherry.store import Store
from amazon_bluecherry.store.models import OutboundDocument


@dataclass(frozen=True)
class StagedSet:
    business_key: str
    transaction_id: int


@dataclass(frozen=True)
class StagedFile:
    outbound_document_id: int
    file_name: str
    isa13: str
    sets: list[StagedSet]


def parties(settings: Settings) -> tuple[Party, Party]:
    """(us, Amazon) as interchange parties."""
    return (Party(id=settings.vendor_id, qualifier=settings.vendor_qualifier),
            Party(id=settings.partner_id, qualifier=settings.partner_qualifier))


def stage_documents(
    store: Store,
    documents: list[Document],
    *,
    business_keys: list[str],
    settings: Settings,
    data: list[dict | None] | None = None,
    session=None,
) -> StagedFile:
    """Write ``documents`` (one set id) as one interchange and keep it as a pending outbound file.

    Creates one ``transactions`` row per set (``business_keys[i]`` for ``documents[i]``).
    """
    if not documents:
        raise ValueError("nothing to stage")
    set_ids = {document.set_id for document in documents}
    if len(set_ids) != 1:
        raise ValueError(f"one set id per file, got {sorted(set_ids)}")
    with store.use_session(session) as db:
        raw = render_documents(store, documents, settings=settings, session=db)
        return stage_x12(store, raw, business_keys=business_keys, settings=settings, data=data, session=db)


def render_documents(store: Store, documents: list[Document], *, settings: Settings, session) -> bytes:
    """``documents`` as one interchange to Amazon, numbered from the store's sequences in
    ``session`` (a rollback gives the numbers back); :func:`stage_x12` keeps the bytes."""
    us, amazon = parties(settings)
    return write_documents(documents, sender=us, receiver=amazon, usage=settings.usage_indicator,
                           control_numbers=store.control_numbers(settings.partner_id, session=session))


def stage_x12(
    store: Store,
    raw: bytes,
    *,
    business_keys: list[str],
    settings: Settings,
    data: list[dict | None] | None = None,
    session=None,
) -> StagedFile:
    """Keep already written X12 bytes (one set id) as a pending outbound file.

    An interchange with no set at all (only a TA1, our answer to a broken envelope) is
    kept as doc type ``TA1`` and named like a 997: both are acknowledgments.
    """
    from amazon_bluecherry.amazon.mailbox import outbound_file_name

    interchanges = read_interchanges(raw)
    transactions = [(interchange, group, transaction) for interchange in interchanges
                    for group in interchange.groups for transaction in group.transactions]
    set_ids = {transaction.set_id for _, _, transaction in transactions}
    if not transactions and interchanges:
        doc_type, name_set, first_interchange, gs06 = "TA1", "997", interchanges[0], ""
    elif len(set_ids) != 1:
        raise ValueError(f"one set id per file, got {sorted(set_ids)}")
    else:
        (doc_type,) = set_ids
        first_interchange, first_group, _ = transactions[0]
        name_set, gs06 = doc_type, first_group.control_number
    set_id = doc_type
    with store.use_session(session) as db:
        raw_id, _ = store.save_raw_document(raw, partner=settings.partner_id, transport="sftp",
                                            direction="out", session=db)
        file_name = outbound_file_name(settings.vendor_code, name_set, int(first_interchange.control_number))
        outbound = OutboundDocument(
            partner=settings.partner_id, doc_type=doc_type, raw_document_id=raw_id,
            isa13=first_interchange.control_number, gs06=gs06,
            st02_list=[transaction.control_number for _, _, transaction in transactions],
            file_name=file_name, status="pending",
        )
        db.add(outbound)
        db.flush()
        ids = store.add_transactions([
            {"doc_type": set_id, "direction": "out", "partner": settings.partner_id, "business_key": key,
             "raw_document_id": raw_id, "isa13": interchange.control_number, "gs06": group.control_number,
             "st02": transaction.control_number, "status": "staged", "data": data[index] if data else None}
            for index, ((interchange, group, transaction), key) in enumerate(
                zip(transactions, business_keys, strict=True))], session=db)
        staged = [StagedSet(business_key=key, transaction_id=transaction_id)
                  for key, transaction_id in zip(business_keys, ids, strict=True)]
        store.record_event("outbound.staged", entity_type="outbound_document", entity_id=outbound.id,
                           payload={"file_name": file_name, "set_id": set_id, "sets": len(staged)}, session=db)
        return StagedFile(outbound_document_id=outbound.id, file_name=file_name,
                          isa13=first_interchange.control_number, sets=staged)


def pending_outbound_ids(store: Store, *, doc_type: str | None = None, session=None) -> list[int]:
    """Outbound documents stored but not sent yet (oldest first)."""
    from sqlalchemy import select

    with store.use_session(session) as db:
        query = select(OutboundDocument.id).where(OutboundDocument.status == "pending")
        if doc_type:
            query = query.where(OutboundDocument.doc_type == doc_type)
        return list(db.scalars(query.order_by(OutboundDocument.id)))
