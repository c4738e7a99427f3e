import sys

sys.stderr = open(snakemake.log[0], "w")

from pathlib import Path

from motionmag.data.sources import index_videos, write_index

layout = snakemake.params.layout
root = Path(snakemake.input.root)
root = root.parent if root.is_file() else root  # UVO: the clips' manifest sits in its root
lists = {name: snakemake.input[name] for name in layout.lists}
videos = index_videos(layout, root, lists)
write_index(videos, snakemake.output[0], dict(dataset=layout.dataset, split=layout.split, archive=layout.archive))
print(f"{layout.dataset} {layout.split}: {len(videos)} videos, {sum(map(len, videos))} frames", file=sys.stderr)
