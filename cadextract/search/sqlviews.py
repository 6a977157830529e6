"""The public SQL views in the ``cadextract`` schema, in one place (documented in docs/sql.md).

Every view shows one file once: the latest completed job of each path (the index row
flagged ``is_latest``). Their columns are a public interface: add columns at the end,
never rename or drop one. A migration that changes a view calls :func:`create_all`
again after editing it here.
"""

from __future__ import annotations

import sqlalchemy as sa

S = "cadextract"
#: latest completed job per path, with its result document (internal building block)
_LATEST = f"""{S}.search_index s JOIN {S}.extraction_results r ON r.job_id = s.job_id"""


def _num(expr: str) -> str:
    """A JSON value as double precision, NULL unless it is a number (never a cast error)."""
    return f"CASE WHEN jsonb_typeof({expr}) = 'number' THEN ({expr})::text::float8 END"


def _int(expr: str) -> str:
    return f"CASE WHEN jsonb_typeof({expr}) = 'number' THEN ({expr})::text::float8::bigint END"


TITLE_COLUMNS = ("drawing_number", "title", "revision", "date", "scale", "sheet", "drawn_by")

VIEWS: dict[str, str] = {
    # one row per file: the latest completed job, title-block fields as columns
    "documents": f"""
        SELECT s.job_id, s.path, regexp_replace(s.path, '^.*/', '') AS file_name, s.format, s.batch,
               j.sha256, j.size AS size_bytes, s.completed_at,
               {", ".join(f"s.fields ->> '{c}' AS {c}" for c in TITLE_COLUMNS)}
        FROM {S}.search_index s
        -- one primary-key probe per document shown: OFFSET 0 keeps the planner from turning
        -- this into a hash join that reads every job to show one batch (migration 0006)
        CROSS JOIN LATERAL (SELECT sha256, size FROM {S}.extraction_jobs
                            WHERE id = s.job_id OFFSET 0) j
        WHERE s.is_latest""",
    # every text a drawing shows: DXF TEXT/MTEXT and attribute values, PDF page text
    "texts": f"""
        SELECT s.job_id, s.path, s.format, 'dxf.' || lower(t ->> 'type') AS kind,
               t ->> 'layout' AS layout, NULL::int AS page, t ->> 'layer' AS layer, NULL::text AS tag,
               t ->> 'text' AS text, {_num("t -> 'position' -> 0")} AS x, {_num("t -> 'position' -> 1")} AS y,
               {_num("t -> 'height'")} AS height
        FROM {_LATEST}, jsonb_array_elements(r.document -> 'payload' -> 'texts') t
        WHERE s.is_latest AND s.format = 'dxf'
        UNION ALL
        SELECT s.job_id, s.path, s.format, 'dxf.attribute', i ->> 'layout', NULL, i ->> 'layer', a.key,
               a.value, {_num("i -> 'position' -> 0")}, {_num("i -> 'position' -> 1")}, NULL
        FROM {_LATEST}, jsonb_array_elements(r.document -> 'payload' -> 'inserts') i,
             jsonb_each_text(i -> 'attribs') a
        WHERE s.is_latest AND s.format = 'dxf'
        UNION ALL
        SELECT s.job_id, s.path, s.format, 'pdf.page', NULL, {_int("p -> 'number'")}, NULL, NULL,
               p ->> 'text', NULL, NULL, NULL
        FROM {_LATEST}, jsonb_array_elements(r.document -> 'payload' -> 'pages') p
        WHERE s.is_latest AND s.format = 'pdf' AND p ? 'text'""",
    # title-block fields, one row per field, with where each was found
    "title_blocks": f"""
        SELECT s.job_id, s.path, s.format, f.key AS field, f.value ->> 'value' AS value,
               f.value -> 'source' AS source
        FROM {_LATEST}, jsonb_each(r.document -> 'payload' -> 'title_block' -> 'fields') f
        WHERE s.is_latest AND s.format IN ('dxf', 'pdf')
          AND jsonb_typeof(r.document -> 'payload' -> 'title_block' -> 'fields') = 'object'""",
    "layers": f"""
        SELECT s.job_id, s.path, l ->> 'name' AS name, {_int("l -> 'color'")} AS color,
               l ->> 'linetype' AS linetype, {_num("l -> 'lineweight'")} AS lineweight,
               (l ->> 'on')::boolean AS is_on, (l ->> 'frozen')::boolean AS frozen,
               (l ->> 'locked')::boolean AS locked, (l ->> 'plot')::boolean AS plot,
               {_int("l -> 'entity_count'")} AS entity_count
        FROM {_LATEST}, jsonb_array_elements(r.document -> 'payload' -> 'layers') l
        WHERE s.is_latest AND s.format = 'dxf'""",
    # DXF DIMENSION entities and the dimension callouts found in PDF text
    "dimensions": f"""
        SELECT s.job_id, s.path, s.format, 'dxf.dimension' AS source, d ->> 'type' AS kind,
               NULL::int AS page, d ->> 'layout' AS layout, d ->> 'layer' AS layer,
               coalesce(d ->> 'text_override', d ->> 'display_text') AS text,
               {_num("d -> 'measurement'")} AS value, NULL::float8 AS tolerance,
               NULL::float8 AS upper, NULL::float8 AS lower, NULL::text AS fit
        FROM {_LATEST}, jsonb_array_elements(r.document -> 'payload' -> 'dimensions') d
        WHERE s.is_latest AND s.format = 'dxf'
        UNION ALL
        SELECT s.job_id, s.path, s.format, 'pdf.callout', c ->> 'kind', {_int("c -> 'page'")}, NULL, NULL,
               c ->> 'text', {_num("c -> 'value'")}, {_num("c -> 'tolerance'")},
               {_num("c -> 'upper'")}, {_num("c -> 'lower'")}, c ->> 'fit'
        FROM {_LATEST}, jsonb_array_elements(r.document -> 'payload' -> 'callouts') c
        WHERE s.is_latest AND s.format = 'pdf'""",
    # one row per table cell (row_no and col_no from 1)
    "pdf_tables": f"""
        SELECT s.job_id, s.path, {_int("p -> 'number'")} AS page, t.n::int AS table_no,
               rw.n::int AS row_no, c.n::int AS col_no, c.cell #>> '{{}}' AS value
        FROM {_LATEST},
             jsonb_array_elements(r.document -> 'payload' -> 'pages') p,
             jsonb_array_elements(coalesce(p -> 'tables', '[]')) WITH ORDINALITY t(tbl, n),
             jsonb_array_elements(t.tbl -> 'rows') WITH ORDINALITY rw(row_cells, n),
             jsonb_array_elements(rw.row_cells) WITH ORDINALITY c(cell, n)
        WHERE s.is_latest AND s.format = 'pdf'""",
    "ifc_storeys": f"""
        SELECT s.job_id, s.path, st ->> 'global_id' AS global_id, st ->> 'name' AS name,
               st ->> 'long_name' AS long_name, st ->> 'building' AS building,
               {_num("st -> 'elevation'")} AS elevation, {_int("st -> 'element_count'")} AS element_count,
               st -> 'elements_by_class' AS elements_by_class
        FROM {_LATEST}, jsonb_array_elements(r.document -> 'payload' -> 'storeys') st
        WHERE s.is_latest AND s.format = 'ifc'""",
    # elements per storey and class: works with the default (summary) IFC detail
    "ifc_storey_classes": f"""
        SELECT s.job_id, s.path, st ->> 'global_id' AS storey_global_id, st ->> 'name' AS storey,
               c.key AS ifc_class, {_int("c.value")} AS count
        FROM {_LATEST}, jsonb_array_elements(r.document -> 'payload' -> 'storeys') st,
             jsonb_each(coalesce(st -> 'elements_by_class', '{{}}')) c
        WHERE s.is_latest AND s.format = 'ifc'""",
    # only files extracted with --option detail=full have elements
    "ifc_elements": f"""
        SELECT s.job_id, s.path, e ->> 'global_id' AS global_id, e ->> 'ifc_class' AS ifc_class,
               e ->> 'name' AS name, e ->> 'description' AS description, e ->> 'object_type' AS object_type,
               e ->> 'tag' AS tag, e ->> 'predefined_type' AS predefined_type,
               e ->> 'type_class' AS type_class, e ->> 'type_name' AS type_name, e ->> 'storey' AS storey,
               e ->> 'storey_global_id' AS storey_global_id,
               e ->> 'container' AS container, e -> 'materials' AS materials,
               e -> 'property_sets' AS property_sets, e -> 'quantity_sets' AS quantity_sets
        FROM {_LATEST}, jsonb_array_elements(r.document -> 'payload' -> 'elements') e
        WHERE s.is_latest AND s.format = 'ifc'""",
    # one row per property of a property set (the sets' internal "id" left out)
    "ifc_properties": f"""
        SELECT s.job_id, s.path, e ->> 'global_id' AS global_id, e ->> 'ifc_class' AS ifc_class,
               e ->> 'name' AS element_name, ps.key AS property_set, pr.key AS property,
               pr.value #>> '{{}}' AS value
        FROM {_LATEST}, jsonb_array_elements(r.document -> 'payload' -> 'elements') e,
             jsonb_each(coalesce(e -> 'property_sets', '{{}}')) ps,
             jsonb_each(CASE WHEN jsonb_typeof(ps.value) = 'object' THEN ps.value ELSE '{{}}' END) pr
        WHERE s.is_latest AND s.format = 'ifc' AND pr.key <> 'id'""",
    # distinct parts; volume in mm³ (volume_l in litres), area in mm², per instance
    "step_parts": f"""
        SELECT s.job_id, s.path, p ->> 'part_id' AS part_id, p ->> 'name' AS name,
               {_int("p -> 'instance_count'")} AS instance_count, {_int("p -> 'solid_count'")} AS solid_count,
               {_num("p -> 'volume'")} AS volume, {_num("p -> 'volume'")} / 1e6 AS volume_l,
               {_num("p -> 'surface_area'")} AS surface_area
        FROM {_LATEST}, jsonb_array_elements(r.document -> 'payload' -> 'parts') p
        WHERE s.is_latest AND s.format = 'step'""",
    # the product structure flattened: node_path is the names from the root, '/'-joined
    "step_assembly": f"""
        WITH RECURSIVE nodes AS (
            SELECT s.job_id, s.path, n.node, n.ord::int AS position, 0 AS depth,
                   coalesce(n.node ->> 'name', '?') AS node_path, NULL::text AS parent_path
            FROM {_LATEST},
                 jsonb_array_elements(r.document -> 'payload' -> 'assembly') WITH ORDINALITY n(node, ord)
            WHERE s.is_latest AND s.format = 'step'
            UNION ALL
            SELECT p.job_id, p.path, c.node, c.ord::int, p.depth + 1,
                   p.node_path || '/' || coalesce(c.node ->> 'name', '?'), p.node_path
            FROM nodes p,
                 jsonb_array_elements(coalesce(p.node -> 'children', '[]')) WITH ORDINALITY c(node, ord)
        )
        SELECT job_id, path, depth, position, node_path, parent_path, node ->> 'name' AS name,
               node ->> 'instance_name' AS instance_name, node ->> 'part_id' AS part_id,
               node ->> 'kind' AS kind, {_int("node -> 'solid_count'")} AS solid_count
        FROM nodes""",
}


def create_all(conn: sa.Connection) -> None:
    """(Re)create every view (dropped first: a changed view may change its columns)."""
    drop_all(conn)
    for name, body in VIEWS.items():
        conn.execute(sa.text(f"CREATE VIEW {S}.{name} AS {body}"))


def drop_all(conn: sa.Connection) -> None:
    for name in reversed(list(VIEWS)):
        conn.execute(sa.text(f"DROP VIEW IF EXISTS {S}.{name}"))
