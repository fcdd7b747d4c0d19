package main

// State bag keys shared between steps. Packer's own ("ui", "hook",
// "communicator", "error") are used as Packer names them.
const (
	stateConfig = "config"
	stateHost   = "host"
	// stateCreated is true once this build has made the container, so
	// cleanup may remove it; a container found before the build never is.
	stateCreated = "container_created"
	// stateStarted is true while this build has the container running.
	stateStarted = "container_started"
	// stateInit is the running container's *initLookup.
	stateInit = "container_init"
	// stateLinked is true while the container in a custom machines_dir is
	// linked where machinectl finds it.
	stateLinked = "container_linked"
	// stateResolvConf is the *imageResolvConf to put back after a build
	// on the host's network.
	stateResolvConf = "image_resolv_conf"
	// stateSourceDate is a reproducible build's SOURCE_DATE_EPOCH, a
	// time.Time; absent otherwise.
	stateSourceDate = "source_date"
	// stateEmulated is the container's architecture, a string, when the
	// host runs it through an emulator; absent otherwise.
	stateEmulated = "container_emulated"
	// stateExported lists the files the export step wrote.
	stateExported = "exported_files"
	// stateSBOM lists the SBOM files the SBOM step wrote.
	stateSBOM = "sbom_files"
)
