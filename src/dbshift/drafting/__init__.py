"""Drafting migrations: where schemas come from (sources), drafting a migration from two of them
(draft), and printing a schema (render). It sits above the planners and inspectors it drives;
``schema/`` below it stays dialect-neutral."""
