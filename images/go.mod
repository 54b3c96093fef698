module clusterforge.dev/images

go 1.24
