/*
 * tests/dockcreate-traces.h - the create bodies the real clients send
 * (../shared/research/docker-clients-traces.txt records which fields each one
 * set; the zero values are the clients' own: the docker CLI marshals every
 * field of its Go structs, docker-py drops None but keeps False, dockerode
 * sends what Testcontainers set).  The unit tests and fuzz-dockcreate both
 * require each to be accepted; tests/fuzz/corpus/dockcreate/ holds the same bodies.
 */
#ifndef BERTH_TESTS_DOCKCREATE_TRACES_H
#define BERTH_TESTS_DOCKCREATE_TRACES_H

struct dc_trace {
	const char *client; /* the trace's flow name */
	const char *name;   /* the name query parameter, NULL for none */
	const char *body;
};

static const struct dc_trace dc_traces[] = {
    {"cli-run-d", "facade-web",
     "{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"\",\"AttachStdin\":false,\"AttachStdo"
     "ut\":false,\"AttachStderr\":false,\"ExposedPorts\":{\"80/tcp\":{}},\"Tty\":false,\"Open"
     "Stdin\":false,\"StdinOnce\":false,\"Env\":[],\"Cmd\":[\"httpd\",\"-f\",\"-p\",\"80\"],"
     "\"Image\":\"facade/bb:1\",\"Volumes\":{},\"WorkingDir\":\"\",\"Entrypoint\":null,\"OnBu"
     "ild\":null,\"Labels\":{},\"HostConfig\":{\"Binds\":null,\"ContainerIDFile\":\"\",\"LogC"
     "onfig\":{\"Type\":\"\",\"Config\":{}},\"NetworkMode\":\"default\",\"PortBindings\":{\"8"
     "0/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"8080\"}]},\"RestartPolicy\":{\"Name\":\"no\","
     "\"MaximumRetryCount\":0},\"AutoRemove\":false,\"VolumeDriver\":\"\",\"VolumesFrom\":nul"
     "l,\"CapAdd\":null,\"CapDrop\":null,\"CgroupnsMode\":\"\",\"Dns\":[],\"DnsOptions\":[],"
     "\"DnsSearch\":[],\"ExtraHosts\":null,\"GroupAdd\":null,\"IpcMode\":\"\",\"Cgroup\":\"\""
     ",\"Links\":null,\"OomScoreAdj\":0,\"PidMode\":\"\",\"Privileged\":false,\"PublishAllPor"
     "ts\":false,\"ReadonlyRootfs\":false,\"SecurityOpt\":null,\"UTSMode\":\"\",\"UsernsMode"
     "\":\"\",\"ShmSize\":0,\"ConsoleSize\":[0,0],\"Isolation\":\"\",\"CpuShares\":0,\"Memory"
     "\":0,\"NanoCpus\":0,\"CgroupParent\":\"\",\"BlkioWeight\":0,\"BlkioWeightDevice\":[],\""
     "BlkioDeviceReadBps\":null,\"BlkioDeviceWriteBps\":null,\"BlkioDeviceReadIOps\":null,\"B"
     "lkioDeviceWriteIOps\":null,\"CpuPeriod\":0,\"CpuQuota\":0,\"CpuRealtimePeriod\":0,\"Cpu"
     "RealtimeRuntime\":0,\"CpusetCpus\":\"\",\"CpusetMems\":\"\",\"Devices\":[],\"DeviceCgro"
     "upRules\":null,\"DeviceRequests\":null,\"KernelMemory\":0,\"KernelMemoryTCP\":0,\"Memor"
     "yReservation\":0,\"MemorySwap\":0,\"MemorySwappiness\":-1,\"OomKillDisable\":false,\"Pi"
     "dsLimit\":null,\"Ulimits\":null,\"CpuCount\":0,\"CpuPercent\":0,\"IOMaximumIOps\":0,\"I"
     "OMaximumBandwidth\":0,\"MaskedPaths\":null,\"ReadonlyPaths\":null},\"NetworkingConfig\""
     ":{\"EndpointsConfig\":{}}}"},
    {"cli-run-rm", NULL,
     "{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"\",\"AttachStdin\":false,\"AttachStdo"
     "ut\":true,\"AttachStderr\":true,\"Tty\":false,\"OpenStdin\":false,\"StdinOnce\":false,"
     "\"Env\":[],\"Cmd\":[\"echo\",\"hello\"],\"Image\":\"facade/bb:1\",\"Volumes\":{},\"Work"
     "ingDir\":\"\",\"Entrypoint\":null,\"OnBuild\":null,\"Labels\":{},\"HostConfig\":{\"Bind"
     "s\":null,\"ContainerIDFile\":\"\",\"LogConfig\":{\"Type\":\"\",\"Config\":{}},\"Network"
     "Mode\":\"default\",\"PortBindings\":{},\"RestartPolicy\":{\"Name\":\"no\",\"MaximumRetr"
     "yCount\":0},\"AutoRemove\":true,\"VolumeDriver\":\"\",\"VolumesFrom\":null,\"CapAdd\":n"
     "ull,\"CapDrop\":null,\"CgroupnsMode\":\"\",\"Dns\":[],\"DnsOptions\":[],\"DnsSearch\":["
     "],\"ExtraHosts\":null,\"GroupAdd\":null,\"IpcMode\":\"\",\"Cgroup\":\"\",\"Links\":null"
     ",\"OomScoreAdj\":0,\"PidMode\":\"\",\"Privileged\":false,\"PublishAllPorts\":false,\"Re"
     "adonlyRootfs\":false,\"SecurityOpt\":null,\"UTSMode\":\"\",\"UsernsMode\":\"\",\"ShmSiz"
     "e\":0,\"ConsoleSize\":[0,0],\"Isolation\":\"\",\"CpuShares\":0,\"Memory\":0,\"NanoCpus"
     "\":0,\"CgroupParent\":\"\",\"BlkioWeight\":0,\"BlkioWeightDevice\":[],\"BlkioDeviceRead"
     "Bps\":null,\"BlkioDeviceWriteBps\":null,\"BlkioDeviceReadIOps\":null,\"BlkioDeviceWrite"
     "IOps\":null,\"CpuPeriod\":0,\"CpuQuota\":0,\"CpuRealtimePeriod\":0,\"CpuRealtimeRuntime"
     "\":0,\"CpusetCpus\":\"\",\"CpusetMems\":\"\",\"Devices\":[],\"DeviceCgroupRules\":null,"
     "\"DeviceRequests\":null,\"KernelMemory\":0,\"KernelMemoryTCP\":0,\"MemoryReservation\":"
     "0,\"MemorySwap\":0,\"MemorySwappiness\":-1,\"OomKillDisable\":false,\"PidsLimit\":null,"
     "\"Ulimits\":null,\"CpuCount\":0,\"CpuPercent\":0,\"IOMaximumIOps\":0,\"IOMaximumBandwid"
     "th\":0,\"MaskedPaths\":null,\"ReadonlyPaths\":null},\"NetworkingConfig\":{\"EndpointsCo"
     "nfig\":{}}}"},
    {"cli-run-tick", "facade-tick",
     "{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"\",\"AttachStdin\":false,\"AttachStdo"
     "ut\":false,\"AttachStderr\":false,\"Tty\":false,\"OpenStdin\":false,\"StdinOnce\":false"
     ",\"Env\":[],\"Cmd\":[\"sh\",\"-c\",\"while true; do date; sleep 1; done\"],\"Image\":\""
     "facade/bb:1\",\"Volumes\":{},\"WorkingDir\":\"\",\"Entrypoint\":null,\"OnBuild\":null,"
     "\"Labels\":{},\"HostConfig\":{\"Binds\":null,\"ContainerIDFile\":\"\",\"LogConfig\":{\""
     "Type\":\"\",\"Config\":{}},\"NetworkMode\":\"default\",\"PortBindings\":{},\"RestartPol"
     "icy\":{\"Name\":\"no\",\"MaximumRetryCount\":0},\"AutoRemove\":false,\"VolumeDriver\":"
     "\"\",\"VolumesFrom\":null,\"CapAdd\":null,\"CapDrop\":null,\"CgroupnsMode\":\"\",\"Dns"
     "\":[],\"DnsOptions\":[],\"DnsSearch\":[],\"ExtraHosts\":null,\"GroupAdd\":null,\"IpcMod"
     "e\":\"\",\"Cgroup\":\"\",\"Links\":null,\"OomScoreAdj\":0,\"PidMode\":\"\",\"Privileged"
     "\":false,\"PublishAllPorts\":false,\"ReadonlyRootfs\":false,\"SecurityOpt\":null,\"UTSM"
     "ode\":\"\",\"UsernsMode\":\"\",\"ShmSize\":0,\"ConsoleSize\":[0,0],\"Isolation\":\"\","
     "\"CpuShares\":0,\"Memory\":0,\"NanoCpus\":0,\"CgroupParent\":\"\",\"BlkioWeight\":0,\"B"
     "lkioWeightDevice\":[],\"BlkioDeviceReadBps\":null,\"BlkioDeviceWriteBps\":null,\"BlkioD"
     "eviceReadIOps\":null,\"BlkioDeviceWriteIOps\":null,\"CpuPeriod\":0,\"CpuQuota\":0,\"Cpu"
     "RealtimePeriod\":0,\"CpuRealtimeRuntime\":0,\"CpusetCpus\":\"\",\"CpusetMems\":\"\",\"D"
     "evices\":[],\"DeviceCgroupRules\":null,\"DeviceRequests\":null,\"KernelMemory\":0,\"Ker"
     "nelMemoryTCP\":0,\"MemoryReservation\":0,\"MemorySwap\":0,\"MemorySwappiness\":-1,\"Oom"
     "KillDisable\":false,\"PidsLimit\":null,\"Ulimits\":null,\"CpuCount\":0,\"CpuPercent\":0"
     ",\"IOMaximumIOps\":0,\"IOMaximumBandwidth\":0,\"MaskedPaths\":null,\"ReadonlyPaths\":nu"
     "ll},\"NetworkingConfig\":{\"EndpointsConfig\":{}}}"},
    {"cli28-run-d", "facade-web28",
     "{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"\",\"AttachStdin\":false,\"AttachStdo"
     "ut\":false,\"AttachStderr\":false,\"ExposedPorts\":{\"80/tcp\":{}},\"Tty\":false,\"Open"
     "Stdin\":false,\"StdinOnce\":false,\"Env\":[],\"Cmd\":[\"httpd\",\"-f\",\"-p\",\"80\"],"
     "\"Image\":\"facade/bb:1\",\"Volumes\":{},\"WorkingDir\":\"\",\"Entrypoint\":null,\"OnBu"
     "ild\":null,\"Labels\":{},\"HostConfig\":{\"Binds\":null,\"ContainerIDFile\":\"\",\"LogC"
     "onfig\":{\"Type\":\"\",\"Config\":{}},\"NetworkMode\":\"default\",\"PortBindings\":{\"8"
     "0/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"8080\"}]},\"RestartPolicy\":{\"Name\":\"no\","
     "\"MaximumRetryCount\":0},\"AutoRemove\":false,\"VolumeDriver\":\"\",\"VolumesFrom\":nul"
     "l,\"ConsoleSize\":[0,0],\"CapAdd\":null,\"CapDrop\":null,\"CgroupnsMode\":\"\",\"Dns\":"
     "[],\"DnsOptions\":[],\"DnsSearch\":[],\"ExtraHosts\":null,\"GroupAdd\":null,\"IpcMode\""
     ":\"\",\"Cgroup\":\"\",\"Links\":null,\"OomScoreAdj\":0,\"PidMode\":\"\",\"Privileged\":"
     "false,\"PublishAllPorts\":false,\"ReadonlyRootfs\":false,\"SecurityOpt\":null,\"UTSMode"
     "\":\"\",\"UsernsMode\":\"\",\"ShmSize\":0,\"Isolation\":\"\",\"CpuShares\":0,\"Memory\""
     ":0,\"NanoCpus\":0,\"CgroupParent\":\"\",\"BlkioWeight\":0,\"BlkioWeightDevice\":[],\"Bl"
     "kioDeviceReadBps\":[],\"BlkioDeviceWriteBps\":[],\"BlkioDeviceReadIOps\":[],\"BlkioDevi"
     "ceWriteIOps\":[],\"CpuPeriod\":0,\"CpuQuota\":0,\"CpuRealtimePeriod\":0,\"CpuRealtimeRu"
     "ntime\":0,\"CpusetCpus\":\"\",\"CpusetMems\":\"\",\"Devices\":[],\"DeviceCgroupRules\":"
     "null,\"DeviceRequests\":null,\"MemoryReservation\":0,\"MemorySwap\":0,\"MemorySwappines"
     "s\":-1,\"OomKillDisable\":false,\"PidsLimit\":null,\"Ulimits\":[],\"CpuCount\":0,\"CpuP"
     "ercent\":0,\"IOMaximumIOps\":0,\"IOMaximumBandwidth\":0,\"MaskedPaths\":null,\"Readonly"
     "Paths\":null},\"NetworkingConfig\":{\"EndpointsConfig\":{\"default\":{\"IPAMConfig\":nu"
     "ll,\"Links\":null,\"Aliases\":null,\"MacAddress\":\"\",\"DriverOpts\":null,\"GwPriority"
     "\":0,\"NetworkID\":\"\",\"EndpointID\":\"\",\"Gateway\":\"\",\"IPAddress\":\"\",\"IPPre"
     "fixLen\":0,\"IPv6Gateway\":\"\",\"GlobalIPv6Address\":\"\",\"GlobalIPv6PrefixLen\":0,\""
     "DNSNames\":null}}}}"},
    {"cli28-run-rm", NULL,
     "{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"\",\"AttachStdin\":false,\"AttachStdo"
     "ut\":true,\"AttachStderr\":true,\"Tty\":false,\"OpenStdin\":false,\"StdinOnce\":false,"
     "\"Env\":[],\"Cmd\":[\"echo\",\"hello\"],\"Image\":\"facade/bb:1\",\"Volumes\":{},\"Work"
     "ingDir\":\"\",\"Entrypoint\":null,\"OnBuild\":null,\"Labels\":{},\"HostConfig\":{\"Bind"
     "s\":null,\"ContainerIDFile\":\"\",\"LogConfig\":{\"Type\":\"\",\"Config\":{}},\"Network"
     "Mode\":\"default\",\"PortBindings\":{},\"RestartPolicy\":{\"Name\":\"no\",\"MaximumRetr"
     "yCount\":0},\"AutoRemove\":true,\"VolumeDriver\":\"\",\"VolumesFrom\":null,\"ConsoleSiz"
     "e\":[0,0],\"CapAdd\":null,\"CapDrop\":null,\"CgroupnsMode\":\"\",\"Dns\":[],\"DnsOption"
     "s\":[],\"DnsSearch\":[],\"ExtraHosts\":null,\"GroupAdd\":null,\"IpcMode\":\"\",\"Cgroup"
     "\":\"\",\"Links\":null,\"OomScoreAdj\":0,\"PidMode\":\"\",\"Privileged\":false,\"Publis"
     "hAllPorts\":false,\"ReadonlyRootfs\":false,\"SecurityOpt\":null,\"UTSMode\":\"\",\"User"
     "nsMode\":\"\",\"ShmSize\":0,\"Isolation\":\"\",\"CpuShares\":0,\"Memory\":0,\"NanoCpus"
     "\":0,\"CgroupParent\":\"\",\"BlkioWeight\":0,\"BlkioWeightDevice\":[],\"BlkioDeviceRead"
     "Bps\":[],\"BlkioDeviceWriteBps\":[],\"BlkioDeviceReadIOps\":[],\"BlkioDeviceWriteIOps\""
     ":[],\"CpuPeriod\":0,\"CpuQuota\":0,\"CpuRealtimePeriod\":0,\"CpuRealtimeRuntime\":0,\"C"
     "pusetCpus\":\"\",\"CpusetMems\":\"\",\"Devices\":[],\"DeviceCgroupRules\":null,\"Device"
     "Requests\":null,\"MemoryReservation\":0,\"MemorySwap\":0,\"MemorySwappiness\":-1,\"OomK"
     "illDisable\":false,\"PidsLimit\":null,\"Ulimits\":[],\"CpuCount\":0,\"CpuPercent\":0,\""
     "IOMaximumIOps\":0,\"IOMaximumBandwidth\":0,\"MaskedPaths\":null,\"ReadonlyPaths\":null}"
     ",\"NetworkingConfig\":{\"EndpointsConfig\":{\"default\":{\"IPAMConfig\":null,\"Links\":"
     "null,\"Aliases\":null,\"MacAddress\":\"\",\"DriverOpts\":null,\"GwPriority\":0,\"Networ"
     "kID\":\"\",\"EndpointID\":\"\",\"Gateway\":\"\",\"IPAddress\":\"\",\"IPPrefixLen\":0,\""
     "IPv6Gateway\":\"\",\"GlobalIPv6Address\":\"\",\"GlobalIPv6PrefixLen\":0,\"DNSNames\":nu"
     "ll}}}}"},
    {"compose-web", "facadeproj_web_1",
     "{\"ExposedPorts\":{\"80/tcp\":{}},\"Tty\":false,\"OpenStdin\":false,\"StdinOnce\":false"
     ",\"AttachStdin\":false,\"AttachStdout\":false,\"AttachStderr\":false,\"Env\":[],\"Cmd\""
     ":[\"httpd\",\"-f\",\"-p\",\"80\"],\"Image\":\"facade/bb:1\",\"Volumes\":{\"/data\":{}},"
     "\"NetworkDisabled\":false,\"HostConfig\":{\"NetworkMode\":\"facadeproj_back\",\"Binds\""
     ":[\"facadeproj_data:/data:rw\"],\"PortBindings\":{\"80/tcp\":[{\"HostIp\":\"\",\"HostPo"
     "rt\":\"8080\"}]},\"LogConfig\":{\"Type\":\"\",\"Config\":{}}},\"NetworkingConfig\":{\"E"
     "ndpointsConfig\":{\"facadeproj_back\":{\"Aliases\":[\"web\"]}}},\"Labels\":{\"com.docke"
     "r.compose.project\":\"facadeproj\",\"com.docker.compose.service\":\"web\",\"com.docker."
     "compose.oneoff\":\"False\",\"com.docker.compose.project.working_dir\":\"/home/u/facade"
     "\",\"com.docker.compose.project.config_files\":\"/home/u/facade/docker-compose.yml\",\""
     "com.docker.compose.container-number\":\"1\",\"com.docker.compose.version\":\"1.29.2\","
     "\"com.docker.compose.config-hash\":\"3c7c9a5f1d2e4b6a8c0e1f2a3b4c5d6e7f8091a2b3c4d5e6f7"
     "08192a3b4c5d6e\"}}"},
    {"compose-worker", "facadeproj_worker_1",
     "{\"Tty\":false,\"OpenStdin\":false,\"StdinOnce\":false,\"AttachStdin\":false,\"AttachSt"
     "dout\":false,\"AttachStderr\":false,\"Env\":[],\"Cmd\":[\"sh\",\"-c\",\"while true; do "
     "sleep 5; done\"],\"Image\":\"facade/bb:1\",\"NetworkDisabled\":false,\"HostConfig\":{\""
     "NetworkMode\":\"facadeproj_back\",\"LogConfig\":{\"Type\":\"\",\"Config\":{}}},\"Networ"
     "kingConfig\":{\"EndpointsConfig\":{\"facadeproj_back\":{\"Aliases\":[\"worker\"]}}},\"L"
     "abels\":{\"com.docker.compose.project\":\"facadeproj\",\"com.docker.compose.service\":"
     "\"worker\",\"com.docker.compose.oneoff\":\"False\",\"com.docker.compose.project.working"
     "_dir\":\"/home/u/facade\",\"com.docker.compose.project.config_files\":\"/home/u/facade/"
     "docker-compose.yml\",\"com.docker.compose.container-number\":\"1\",\"com.docker.compose"
     ".version\":\"1.29.2\",\"com.docker.compose.config-hash\":\"3c7c9a5f1d2e4b6a8c0e1f2a3b4c"
     "5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e\"}}"},
    {"tc-start", NULL,
     "{\"Image\":\"facade/bb:1\",\"Cmd\":[\"httpd\",\"-f\",\"-p\",\"80\"],\"ExposedPorts\":{"
     "\"80/tcp\":{}},\"Labels\":{\"org.testcontainers\":\"true\",\"org.testcontainers.lang\":"
     "\"node\",\"org.testcontainers.version\":\"11.14.0\",\"org.testcontainers.session-id\":"
     "\"8d8fc7c73db8\"},\"HostConfig\":{\"AutoRemove\":false,\"PortBindings\":{\"80/tcp\":[{"
     "\"HostPort\":\"0\"}]}}}"},
};

#endif
