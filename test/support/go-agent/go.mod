module iofog-connector/test/go-agent

go 1.21
