#!/usr/bin/env bash
# Re-vendors the real-world corpora from bare git mirrors of the upstream repositories:
#   vendor.sh <langfuse-git-dir> <kratos-git-dir>
# Only the migrations PostgreSQL runs are copied, with the upstream licence, and the commit
# is written to each corpus's SOURCE file. Review the snapshot (corpus-real.test.ts) after.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lf=$1 kr=$2

# langfuse: Prisma, one folder per migration holding migration.sql; Prisma runs the folders in
# name order. The folders are kept so the change-set-per-folder layout is what gets linted.
rm -rf "$here/langfuse" && mkdir -p "$here/langfuse/migrations"
rev=$(git --git-dir="$lf" rev-parse HEAD)
git --git-dir="$lf" show HEAD:LICENSE >"$here/langfuse/LICENSE"
git --git-dir="$lf" ls-tree -r --name-only HEAD packages/shared/prisma/migrations |
  grep '/migration\.sql$' | while read -r p; do
    d=$(basename "$(dirname "$p")")
    mkdir -p "$here/langfuse/migrations/$d"
    git --git-dir="$lf" show "HEAD:$p" >"$here/langfuse/migrations/$d/migration.sql"
  done
printf 'langfuse/langfuse %s packages/shared/prisma/migrations\n' "$rev" >"$here/langfuse/SOURCE"

# kratos: popx. A file is <version>_<name>[.<dialect>][.autocommit].up.sql; PostgreSQL runs the
# dialect-less ("all") files and the .postgres ones, and for a version that has both, only the
# .postgres one (popx Migrations.SortAndFilter).
rm -rf "$here/kratos" && mkdir -p "$here/kratos/migrations"
rev=$(git --git-dir="$kr" rev-parse HEAD)
git --git-dir="$kr" show HEAD:LICENSE >"$here/kratos/LICENSE"
all=$(git --git-dir="$kr" ls-tree -r --name-only HEAD persistence/sql/migrations/sql | sed 's#.*/##' | grep '\.up\.sql$')
pg=$(grep -E '^[0-9]+_[^.]+\.postgres(\.autocommit)?\.up\.sql$' <<<"$all" || true)
generic=$(grep -E '^[0-9]+_[^.]+(\.autocommit)?\.up\.sql$' <<<"$all" || true)
pgversions=$(sed -E 's/_.*//' <<<"$pg" | sort -u)
{
  echo "$pg"
  while read -r f; do
    v=${f%%_*}
    grep -qx "$v" <<<"$pgversions" || echo "$f"
  done <<<"$generic"
} | sort -u | while read -r f; do
  [ -n "$f" ] && git --git-dir="$kr" show "HEAD:persistence/sql/migrations/sql/$f" >"$here/kratos/migrations/$f"
done
printf 'ory/kratos %s persistence/sql/migrations/sql\n' "$rev" >"$here/kratos/SOURCE"
