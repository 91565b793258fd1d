# IronClaw installer for Windows on amd64 and arm64 (Windows PowerShell 5.1 or PowerShell 7). It downloads
# a release, checks the archive's SHA-256 against the release's SHA256SUMS before anything from it runs,
# and installs ironclaw.exe.
#
#   irm https://github.com/ironclaw-dev/ironclaw/releases/latest/download/install.ps1 | iex
#
# Environment (all optional), as for install.sh:
#   IRONCLAW_VERSION         the release to install: X.Y.Z or vX.Y.Z (default: the latest)
#   IRONCLAW_INSTALL_DIR     where ironclaw.exe goes (default: %LOCALAPPDATA%\IronClaw\bin)
#   IRONCLAW_BASE_URL        a releases base URL with GitHub's layout: <base>/latest answers the tag or
#                            redirects to <base>/tag/<tag>; assets are at <base>/download/<tag>/<asset>
#                            (default: https://github.com/$IRONCLAW_REPO/releases). https:// only; plain
#                            http:// only for 127.0.0.1, localhost and [::1]
#   IRONCLAW_NO_MODIFY_PATH  any value: leave the user's PATH alone
#   IRONCLAW_ALLOW_DOWNGRADE 1: install the release even over a newer ironclaw.exe at the destination
#   IRONCLAW_TIMEOUT         seconds to connect, and that a download may go without a byte (default 60);
#                            never a cap on a whole download
#   IRONCLAW_REPO            OWNER/NAME whose release workflow must have signed the release
#                            (default: ironclaw-dev/ironclaw)
#   IRONCLAW_TRUSTED_ROOT    trusted_root.json of another Sigstore instance, for the signature check
#                            (default: the verifier's own Sigstore public-good root)
#
# Every download follows at most 5 redirects: from an https:// base only to https:// (any host: integrity
# comes from the checksum and signature, not the host), from an http:// base only to http:// on this
# machine. Each Location is checked before it is fetched. What a download may hold is capped while it
# is read: `latest` 64 KiB, SHA256SUMS and bundles 16 MiB, an archive 512 MiB. The logic is install.sh's,
# step for step; no PowerShell runs in this repository's tests, which read this file (test/installers).
#
# The signature over SHA256SUMS and the build provenance are checked when a trusted verifier is already
# here: an ironclaw.exe from an earlier install (in the install directory, else on PATH), else cosign.
# Without one, the installer says that only the checksum was checked, and how to check the rest by hand.
#
# Exit codes when run as a file: 0 installed; 1 a check said no; 2 bad settings; 3 a tool, the network or
# the disk failed. Through `iex` a failure throws instead, so the session that ran it stays open.
#
# Every line below is inside a function, and only the last line runs anything: a download cut short
# either fails to parse or defines functions that nothing calls.

# The one place this script names whose releases these are (packages/verify/src/release/config.ts is the other).
function Get-DefaultRepository { 'ironclaw-dev/ironclaw' }

# Carries an exit code to the one place that reports failures.
function New-InstallError {
    param([int] $Code, [string] $Message)
    $exception = [System.Exception]::new($Message)
    $exception.Data['IronClawExitCode'] = $Code
    $exception
}

function Stop-Install {
    param([int] $Code, [string] $Message)
    throw (New-InstallError -Code $Code -Message $Message)
}

function Write-Step {
    param([string] $Message)
    Write-Host $Message
}

# Relative to PowerShell's current location, which is not always the process's current directory.
function Get-FullPath {
    param([string] $Path)
    $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($Path)
}

function Read-Settings {
    $settings = @{}
    $repo = $env:IRONCLAW_REPO
    if ([string]::IsNullOrEmpty($repo)) { $repo = Get-DefaultRepository }
    $parts = $repo -split '/'
    if ($repo -cnotmatch '\A[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+\z' -or $parts -contains '.' -or $parts -contains '..') {
        Stop-Install 2 "IRONCLAW_REPO must be OWNER/NAME, found '$repo'"
    }
    $settings.Repo = $repo

    $version = $env:IRONCLAW_VERSION
    if ([string]::IsNullOrEmpty($version) -or $version -ceq 'latest') {
        $settings.Version = ''
    } else {
        $plain = $version -replace '\Av', ''
        if ($plain -cnotmatch '\A[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?\z') {
            Stop-Install 2 "IRONCLAW_VERSION must be X.Y.Z or vX.Y.Z (or unset for the latest), found '$version'"
        }
        $settings.Version = $plain
    }

    $base = $env:IRONCLAW_BASE_URL
    if ([string]::IsNullOrEmpty($base)) { $base = "https://github.com/$repo/releases" }
    $base = $base.TrimEnd('/')
    $settings.BaseUrl = $base
    $settings.Scheme = Test-BaseUrl $base

    $dir = $env:IRONCLAW_INSTALL_DIR
    if ([string]::IsNullOrEmpty($dir)) {
        if ([string]::IsNullOrEmpty($env:LOCALAPPDATA)) {
            Stop-Install 2 'LOCALAPPDATA is not set, so there is no default install directory: set IRONCLAW_INSTALL_DIR'
        }
        $dir = Join-Path $env:LOCALAPPDATA 'IronClaw\bin'
    }
    $settings.InstallDir = (Get-FullPath $dir).TrimEnd('\', '/')

    $allow = $env:IRONCLAW_ALLOW_DOWNGRADE
    if ($null -eq $allow) { $allow = '' }
    if ($allow -cnotmatch '\A[01]?\z') {
        Stop-Install 2 "IRONCLAW_ALLOW_DOWNGRADE must be 1 (or 0, or unset), found '$allow'"
    }
    $settings.AllowDowngrade = ($allow -ceq '1')

    $timeout = $env:IRONCLAW_TIMEOUT
    if ([string]::IsNullOrEmpty($timeout)) { $timeout = '60' }
    if ($timeout -cnotmatch '\A[1-9][0-9]{0,3}\z') {
        Stop-Install 2 "IRONCLAW_TIMEOUT must be a number of seconds from 1 to 9999, found '$timeout'"
    }
    $settings.TimeoutSeconds = [int] $timeout

    $root = $env:IRONCLAW_TRUSTED_ROOT
    $settings.TrustedRoot = ''
    if (-not [string]::IsNullOrEmpty($root)) {
        $root = Get-FullPath $root
        if (-not (Test-Path -LiteralPath $root -PathType Leaf)) {
            Stop-Install 2 "IRONCLAW_TRUSTED_ROOT must name a readable trusted_root.json, found '$root' (no such file)"
        }
        $settings.TrustedRoot = $root
    }
    $settings
}

# https:// anywhere; plain http:// only to this machine, where nobody else is on the wire.
function Test-BaseUrl {
    param([string] $Url)
    $refusal = "IRONCLAW_BASE_URL must be https:// (plain http:// only for 127.0.0.1, localhost or [::1]), found '$Url'"
    if ($Url -cnotmatch '\A[A-Za-z0-9._~:/%@+=,!\[\]-]+\z') {
        Stop-Install 2 "IRONCLAW_BASE_URL must be a plain URL (letters, digits and ._~:/%@+=,![]-), found '$Url'"
    }
    if ($Url -cmatch '\Ahttps://.') { return 'https' }
    if ($Url -cmatch '\Ahttp://(127\.0\.0\.1|localhost|\[::1\])(:[0-9]+)?(/|\z)') { return 'http' }
    Stop-Install 2 $refusal
}

function Get-NodeVersion {
    $node = Get-Command node -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($null -eq $node) { return '' }
    $ErrorActionPreference = 'Continue'
    try { $out = (& $node.Source --version 2>$null | Out-String).Trim() } catch { return '' }
    if (-not ($out -cmatch '\Av?([0-9]+)\.([0-9]+)\.')) { return '' }
    $major = [int] $Matches[1]
    $minor = [int] $Matches[2]
    if ($major -gt 20 -or ($major -eq 20 -and $minor -ge 17)) { return $out.TrimStart('v') }
    ''
}

function Stop-Unsupported {
    param([string] $What, [hashtable] $Settings)
    $message = "there is no ironclaw executable for ${What}: releases have them for Windows on amd64 and arm64, and for Linux and macOS through install.sh."
    $node = Get-NodeVersion
    if ($node) {
        Stop-Install 3 "$message Node.js $node is installed, so use the platform-independent ironclaw_<version>_node.tar.gz from $($Settings.BaseUrl): check it against SHA256SUMS, extract it and run 'node ironclaw.cjs'."
    }
    Stop-Install 3 "$message With Node.js >= 20.17 installed, the platform-independent ironclaw_<version>_node.tar.gz from $($Settings.BaseUrl) runs anywhere: check it against SHA256SUMS, extract it and run 'node ironclaw.cjs'."
}

function Get-Target {
    param([hashtable] $Settings)
    if ((Test-Path variable:IsWindows) -and -not $IsWindows) {
        Stop-Unsupported 'this system through install.ps1 (it is not Windows; use install.sh)' $Settings
    }
    # A 32-bit PowerShell on 64-bit Windows reports x86; the machine's own architecture is in PROCESSOR_ARCHITEW6432.
    $arch = $env:PROCESSOR_ARCHITEW6432
    if ([string]::IsNullOrEmpty($arch)) { $arch = $env:PROCESSOR_ARCHITECTURE }
    switch ($arch) {
        'AMD64' { return 'windows_amd64' }
        'ARM64' { return 'windows_arm64' }
        default { Stop-Unsupported "the processor '$arch' on Windows" $Settings }
    }
}

function Assert-HashTool {
    if ($null -eq (Get-Command Get-FileHash -ErrorAction SilentlyContinue)) {
        Stop-Install 3 'Get-FileHash is not available (PowerShell 4 or later has it), so the download cannot be checked and nothing was installed: run this with Windows PowerShell 5.1 or PowerShell 7'
    }
}

# Fails before any download when the install directory cannot be made: nothing is created yet.
function Assert-InstallDir {
    param([string] $Dir)
    $probe = $Dir
    while (-not (Test-Path -LiteralPath $probe)) {
        $parent = Split-Path -Parent $probe
        if ([string]::IsNullOrEmpty($parent) -or $parent -eq $probe) { break }
        $probe = $parent
    }
    if (-not (Test-Path -LiteralPath $probe -PathType Container)) {
        Stop-Install 3 "cannot install into ${Dir}: expected a directory, but $probe is not one. Choose another with IRONCLAW_INSTALL_DIR"
    }
    if (Test-Path -LiteralPath (Join-Path $Dir 'ironclaw.exe') -PathType Container) {
        Stop-Install 3 "cannot install $(Join-Path $Dir 'ironclaw.exe'): it is a directory. Move it away or choose another IRONCLAW_INSTALL_DIR"
    }
}

function New-HttpClient {
    Add-Type -AssemblyName System.Net.Http
    # Windows PowerShell 5.1 may default to TLS 1.0; releases are served over TLS 1.2 or later.
    [System.Net.ServicePointManager]::SecurityProtocol = [System.Net.ServicePointManager]::SecurityProtocol -bor [System.Net.SecurityProtocolType]::Tls12
    $handler = [System.Net.Http.HttpClientHandler]::new()
    # Redirects are followed by hand (Invoke-Get), each Location checked before it is fetched.
    $handler.AllowAutoRedirect = $false
    $client = [System.Net.Http.HttpClient]::new($handler)
    # Never a cap on a whole download: connecting and each read have their own timeout (Invoke-Hop, Save-Body).
    $client.Timeout = [System.Threading.Timeout]::InfiniteTimeSpan
    $client.DefaultRequestHeaders.UserAgent.ParseAdd('ironclaw-install/1')
    $client
}

# The rules for every redirect, as in install.sh: from an https:// base only to https:// (any host:
# integrity comes from the checksum and signature), from an http:// base only to http:// on this machine.
# Returns '' when the URL may be fetched, else why not.
function Get-RedirectRefusal {
    param([string] $Url, [hashtable] $Settings)
    if ($Url -cnotmatch '\A[A-Za-z0-9._~:/%@+=,!\[\]?&;#-]+\z') {
        return "the server redirected to '$Url', which is no plain URL; refused"
    }
    if ($Settings.Scheme -eq 'https') {
        if ($Url -cmatch '\Ahttps://.') { return '' }
        if ($Url -cmatch '\Ahttp://') {
            return "the server redirected to a plain http:// URL, which the installer refuses ('$Url'): an https:// release may only redirect to https://"
        }
        return "the server redirected to '$Url', which is not https://; refused"
    }
    if ($Url -cmatch '\Ahttp://(127\.0\.0\.1|localhost|\[::1\])(:[0-9]+)?(/|\z)') { return '' }
    "the server redirected to '$Url', which the installer refuses: an http:// release on this machine may only redirect to http:// on 127.0.0.1, localhost or [::1]"
}

# Where a Location points from the URL that sent it: an absolute URL, //host/path or /path; $null for
# anything else, which the installer does not follow (as install.sh).
function Resolve-Location {
    param([string] $From, [string] $Location)
    if ($Location -cmatch '\Ahttps?://') { return $Location }
    $scheme = $From.Substring(0, $From.IndexOf('://'))
    if ($Location.StartsWith('//')) { return "${scheme}:$Location" }
    if ($Location.StartsWith('/')) {
        $authority = ($From.Substring($scheme.Length + 3) -split '[/?]', 2)[0]
        return "${scheme}://$authority$Location"
    }
    $null
}

# One download, as in install.sh: at most 5 redirects, each Location checked before it is fetched; the
# body capped while it is read. Returns @{ Status; Location; Error; FinalUrl }.
function Invoke-Get {
    param([string] $Url, [string] $OutFile, [long] $Cap, [bool] $FollowRedirects, [hashtable] $Settings)
    $client = New-HttpClient
    try {
        $hops = 0
        while ($true) {
            $result = Invoke-Hop $client $Url $OutFile $Cap $Settings
            if ($result.Error -ne '' -or @(301, 302, 303, 307, 308) -notcontains $result.Status -or -not $FollowRedirects) {
                return $result
            }
            if ($result.Location -eq '') {
                $result.Error = "HTTP $($result.Status) without a Location to follow"
                return $result
            }
            if ($hops -ge 5) {
                $result.Error = "more than 5 redirects (the 6th to '$($result.Location)'); the installer follows at most 5"
                return $result
            }
            $hops++
            $next = Resolve-Location $Url $result.Location
            if ($null -eq $next) {
                $result.Error = "the server redirected to '$($result.Location)', which is no absolute URL or path; the installer follows only those"
                return $result
            }
            $refusal = Get-RedirectRefusal $next $Settings
            if ($refusal -ne '') {
                $result.Error = $refusal
                return $result
            }
            $Url = $next
        }
    } finally {
        $client.Dispose()
    }
}

# One request, redirects not followed, tried up to three times a second apart when the server answers
# 408, 429 or 5xx, as in install.sh (a body that was cut or stalled is not retried). Connecting and
# the response's head must come within the timeout.
function Invoke-Hop {
    param($Client, [string] $Url, [string] $OutFile, [long] $Cap, [hashtable] $Settings)
    $timeoutMs = $Settings.TimeoutSeconds * 1000
    $result = $null
    for ($try = 1; $try -le 3; $try++) {
        $result = @{ Status = 0; Location = ''; Error = ''; FinalUrl = $Url }
        $response = $null
        $cancel = [System.Threading.CancellationTokenSource]::new()
        try {
            $cancel.CancelAfter($timeoutMs)
            $response = $Client.GetAsync($Url, [System.Net.Http.HttpCompletionOption]::ResponseHeadersRead, $cancel.Token).GetAwaiter().GetResult()
            $cancel.CancelAfter([System.Threading.Timeout]::Infinite)
            $result.Status = [int] $response.StatusCode
            if ($null -ne $response.Headers.Location) { $result.Location = $response.Headers.Location.OriginalString }
            if ($result.Status -eq 200) {
                $result.Error = Save-Body $response $OutFile $Cap $timeoutMs
                return $result
            } elseif ($result.Status -ge 300 -and $result.Status -lt 400) {
                return $result
            } else {
                $result.Error = "HTTP $($result.Status)"
                if ($result.Status -ne 408 -and $result.Status -ne 429 -and $result.Status -lt 500) { return $result }
            }
        } catch {
            $result.Error = $_.Exception.GetBaseException().Message
            return $result
        } finally {
            $cancel.Dispose()
            if ($null -ne $response) { $response.Dispose() }
        }
        if ($try -lt 3) { Start-Sleep -Seconds 1 }
    }
    $result
}

# Reads a body into OutFile: at most Cap bytes (a longer one is cut off while it arrives, and a longer
# Content-Length refused before), and never more than TimeoutMs without a byte. Returns why it failed, or ''.
function Save-Body {
    param($Response, [string] $OutFile, [long] $Cap, [int] $TimeoutMs)
    $expected = $Response.Content.Headers.ContentLength
    if ($null -ne $expected -and $expected -gt $Cap) {
        return "the server announced more than $Cap bytes, more than the installer takes for it"
    }
    $stream = $Response.Content.ReadAsStreamAsync().GetAwaiter().GetResult()
    $file = [System.IO.File]::Create($OutFile)
    [long] $written = 0
    try {
        $buffer = [byte[]]::new(65536)
        while ($true) {
            $read = $stream.ReadAsync($buffer, 0, $buffer.Length)
            if (-not $read.Wait($TimeoutMs)) {
                return "no byte for $($TimeoutMs / 1000) seconds, after $written bytes"
            }
            $count = $read.Result
            if ($count -eq 0) { break }
            $written += $count
            if ($written -gt $Cap) {
                return "the server sent more than $Cap bytes, more than the installer takes for it (cut off while reading)"
            }
            $file.Write($buffer, 0, $count)
        }
    } finally {
        $file.Dispose()
        $stream.Dispose()
    }
    if ($null -ne $expected -and $written -ne $expected) {
        return "the connection closed after $written of $expected bytes"
    }
    ''
}

# Downloads an asset of the release into the temporary directory, reading at most Cap bytes; a missing
# one fails with its own message.
function Get-Asset {
    param([string] $Name, [string] $Why, [hashtable] $Settings, [string] $Tag, [string] $TempDir, [long] $Cap)
    $url = "$($Settings.BaseUrl)/download/$Tag/$Name"
    Write-Step "Downloading $url"
    $result = Invoke-Get -Url $url -OutFile (Join-Path $TempDir $Name) -Cap $Cap -FollowRedirects $true -Settings $Settings
    if ($result.Error -eq '' -and $result.Status -eq 200) {
        if ($result.FinalUrl -cne $url) { Write-Step "  from $($result.FinalUrl)" }
        return
    }
    if ($result.Status -eq 404) {
        Stop-Install 3 "the release $Tag has no $Name at $url (HTTP 404): $Why. Nothing was installed; check IRONCLAW_VERSION and IRONCLAW_BASE_URL"
    }
    $problem = $result.Error
    if ($problem -eq '') { $problem = "HTTP $($result.Status)" }
    Stop-Install 3 "could not download ${url}: $problem. Nothing was installed; check the network and IRONCLAW_BASE_URL, then run the installer again"
}

# <base>/latest redirects to <base>/tag/<tag> (GitHub) or answers the tag as text (a static mirror).
function Resolve-Tag {
    param([hashtable] $Settings, [string] $TempDir)
    if ($Settings.Version) { return "v$($Settings.Version)" }
    $url = "$($Settings.BaseUrl)/latest"
    Write-Step "Looking up the latest release at $url"
    $file = Join-Path $TempDir 'latest'
    $result = Invoke-Get -Url $url -OutFile $file -Cap 65536 -FollowRedirects $false -Settings $Settings
    if ($result.Location) {
        if (-not ($result.Location -cmatch '/tag/([^/]*)\z')) {
            Stop-Install 3 "$url redirected to '$($result.Location)', expected <base>/tag/vX.Y.Z. Set IRONCLAW_VERSION=X.Y.Z to choose a release"
        }
        $found = $Matches[1]
    } elseif ($result.Error -eq '' -and $result.Status -eq 200) {
        $found = ([System.IO.File]::ReadAllLines($file) | Select-Object -First 1)
        if ($null -eq $found) { $found = '' }
    } else {
        $problem = $result.Error
        if ($problem -eq '') { $problem = "HTTP $($result.Status)" }
        Stop-Install 3 "could not look up the latest release at ${url}: $problem. Check the network and IRONCLAW_BASE_URL, or set IRONCLAW_VERSION=X.Y.Z"
    }
    if ($found -cnotmatch '\Av[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?\z') {
        Stop-Install 3 "$url named '$found' as the latest release, expected a tag vX.Y.Z. Set IRONCLAW_VERSION=X.Y.Z to choose a release"
    }
    $found
}

# The one SHA256SUMS line whose name is exactly the archive's.
function Get-ExpectedChecksum {
    param([string] $SumsFile, [string] $Archive, [string] $Tag, [string] $Target)
    $digests = @()
    foreach ($line in [System.IO.File]::ReadAllLines($SumsFile)) {
        if ($line.Length -gt 66 -and ($line.Substring(64, 2) -ceq '  ' -or $line.Substring(64, 2) -ceq ' *') -and $line.Substring(66) -ceq $Archive) {
            $digests += $line.Substring(0, 64).ToLowerInvariant()
        }
    }
    if ($digests.Count -eq 0) {
        Stop-Install 1 "SHA256SUMS of $Tag has no line for $Archive (a name must match exactly), so the download cannot be checked and nothing was installed. This release may have no build for $Target"
    }
    if ($digests.Count -gt 1) {
        Stop-Install 1 "SHA256SUMS of $Tag lists $Archive more than once; a checksum file with two answers is refused. Nothing was installed"
    }
    if ($digests[0] -cnotmatch '\A[0-9a-f]{64}\z') {
        Stop-Install 1 "SHA256SUMS of $Tag gives '$($digests[0])' for $Archive, expected 64 hexadecimal digits. Nothing was installed"
    }
    $digests[0]
}

function Get-Sha256 {
    param([string] $Path)
    try {
        (Get-FileHash -LiteralPath $Path -Algorithm SHA256).Hash.ToLowerInvariant()
    } catch {
        Stop-Install 3 "Get-FileHash failed on ${Path}: $($_.Exception.Message). Nothing was installed"
    }
}

# An ironclaw.exe from an earlier install, else one on PATH, else cosign; none is downloaded by this run.
function Find-Verifier {
    param([hashtable] $Settings)
    $earlier = Join-Path $Settings.InstallDir 'ironclaw.exe'
    if (Test-Path -LiteralPath $earlier -PathType Leaf) { return @{ Kind = 'ironclaw'; Path = $earlier } }
    $onPath = Get-Command ironclaw -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($null -ne $onPath) { return @{ Kind = 'ironclaw'; Path = $onPath.Source } }
    $cosign = Get-Command cosign -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($null -ne $cosign) { return @{ Kind = 'cosign'; Path = $cosign.Source } }
    if ($Settings.TrustedRoot) {
        Stop-Install 2 'IRONCLAW_TRUSTED_ROOT is set, but there is no verifier to use it: install cosign, or unset IRONCLAW_TRUSTED_ROOT to check the checksum only'
    }
    $null
}

function Get-SignerIdentity {
    param([hashtable] $Settings, [string] $Tag)
    "https://github.com/$($Settings.Repo)/.github/workflows/release.yml@refs/tags/$Tag"
}

# Runs the verifier with its output kept; anything but a yes fails closed and shows what it said.
function Invoke-Verifier {
    param([hashtable] $Verifier, [string] $What, [string[]] $Arguments, [hashtable] $Settings, [string] $Tag)
    # Windows PowerShell turns a native command's standard error into a terminating error under 'Stop'.
    $ErrorActionPreference = 'Continue'
    $output = & $Verifier.Path @Arguments 2>&1 | Out-String
    $status = $LASTEXITCODE
    if ($status -eq 0) { return }
    foreach ($line in ($output -split "`r?`n")) { [Console]::Error.WriteLine("  | $line") }
    if ($status -eq 1) {
        Stop-Install 1 "$($Verifier.Path) rejected $What (its report is above): this is not what $($Settings.Repo)'s release workflow signed for $Tag. Nothing was installed"
    }
    Stop-Install 3 "$($Verifier.Path) could not check $What (exit $status; its report is above). Nothing was installed; fix what it says, or move it out of the way to install with the checksum check alone"
}

function Get-CosignIdentityArguments {
    param([hashtable] $Settings, [string] $Tag)
    $arguments = @('--certificate-identity', (Get-SignerIdentity $Settings $Tag), '--certificate-oidc-issuer', 'https://token.actions.githubusercontent.com')
    if ($Settings.TrustedRoot) { $arguments += @('--trusted-root', $Settings.TrustedRoot) }
    $arguments
}

function Get-IronClawPolicyArguments {
    param([hashtable] $Settings, [string] $Tag, [string] $TempDir)
    $arguments = @('--dir', $TempDir, '--repo', $Settings.Repo, '--tag', $Tag)
    if ($Settings.TrustedRoot) { $arguments += @('--trusted-root', $Settings.TrustedRoot) }
    $arguments
}

# cosign takes one bundle per call: each line of the .intoto.jsonl is tried until one names the file.
function Test-CosignProvenance {
    param([hashtable] $Verifier, [string] $File, [string] $Attestations, [hashtable] $Settings, [string] $Tag, [string] $TempDir)
    $ErrorActionPreference = 'Continue'
    $report = ''
    $lines = [System.IO.File]::ReadAllLines($Attestations)
    foreach ($line in $lines) {
        $bundle = Join-Path $TempDir 'attestation.json'
        [System.IO.File]::WriteAllText($bundle, $line + "`n")
        $arguments = @('verify-blob-attestation', '--bundle', $bundle, '--new-bundle-format', '--type', 'slsaprovenance1') + (Get-CosignIdentityArguments $Settings $Tag) + @($File)
        $report += & $Verifier.Path @arguments 2>&1 | Out-String
        if ($LASTEXITCODE -eq 0) { return }
    }
    foreach ($line in ($report -split "`r?`n")) { [Console]::Error.WriteLine("  | $line") }
    Stop-Install 1 "$($Verifier.Path) found no build provenance for $(Split-Path -Leaf $File) in $(Split-Path -Leaf $Attestations) ($($lines.Count) statement(s) tried; its report is above). Nothing was installed"
}

function Test-Signature {
    param($Verifier, [hashtable] $Settings, [string] $Tag, [string] $Version, [string] $Archive, [string] $TempDir)
    if ($null -eq $Verifier) {
        $identity = Get-SignerIdentity $Settings $Tag
        Write-Step 'Signature NOT checked: neither an earlier ironclaw nor cosign is installed, so only the checksum was checked.'
        Write-Step "  That proves the archive is the one SHA256SUMS names, not that SHA256SUMS comes from $($Settings.Repo)'s release workflow."
        Write-Step "  To check the rest by hand, download SHA256SUMS and SHA256SUMS.sigstore.json from $($Settings.BaseUrl)/download/$Tag/ and run:"
        Write-Step "    cosign verify-blob --bundle SHA256SUMS.sigstore.json --certificate-identity $identity --certificate-oidc-issuer https://token.actions.githubusercontent.com SHA256SUMS"
        Write-Step "    gh attestation verify $Archive --repo $($Settings.Repo)"
        return
    }
    $attestations = "ironclaw_$Version.intoto.jsonl"
    Get-Asset 'SHA256SUMS.sigstore.json' "the signature over SHA256SUMS is missing, so $($Verifier.Path) cannot check it" $Settings $Tag $TempDir 16777216
    Get-Asset $attestations "the build provenance is missing, so $($Verifier.Path) cannot check it" $Settings $Tag $TempDir 16777216
    $archivePath = Join-Path $TempDir $Archive
    if ($Verifier.Kind -eq 'ironclaw') {
        $arguments = @('verify') + (Get-IronClawPolicyArguments $Settings $Tag $TempDir) + @($archivePath)
        Invoke-Verifier $Verifier "the signature or provenance of $Archive" $arguments $Settings $Tag
    } else {
        $arguments = @('verify-blob', '--bundle', (Join-Path $TempDir 'SHA256SUMS.sigstore.json'), '--new-bundle-format') + (Get-CosignIdentityArguments $Settings $Tag) + @((Join-Path $TempDir 'SHA256SUMS'))
        Invoke-Verifier $Verifier 'the signature over SHA256SUMS' $arguments $Settings $Tag
        Test-CosignProvenance $Verifier $archivePath (Join-Path $TempDir $attestations) $Settings $Tag $TempDir
    }
    Write-Step "Signature OK: SHA256SUMS is signed by $(Get-SignerIdentity $Settings $Tag), and $Archive has its build provenance (checked by $($Verifier.Path))"
}

# Only a regular ironclaw.exe comes out of the zip, as in install.sh: no entry may be a link or special
# file (its Unix type in the high bits of the external attributes, or a Windows reparse point), nor
# point outside; the bytes go into a new file this script creates, so nothing in the archive decides
# which file is checked and run.
function Expand-Executable {
    param([string] $ArchivePath, [string] $Archive, [string] $TempDir)
    Add-Type -AssemblyName System.IO.Compression
    Add-Type -AssemblyName System.IO.Compression.FileSystem
    $extracted = Join-Path $TempDir 'extracted'
    New-Item -ItemType Directory -Path $extracted | Out-Null
    $destination = Join-Path $extracted 'ironclaw.exe'
    try {
        $zip = [System.IO.Compression.ZipFile]::OpenRead($ArchivePath)
    } catch {
        Stop-Install 1 "$Archive is not a readable zip archive ($($_.Exception.GetBaseException().Message)). Nothing was installed"
    }
    try {
        $matching = @()
        foreach ($entry in $zip.Entries) {
            $name = $entry.FullName
            $segments = $name -split '[/\\]'
            if ($name -match '\A[/\\]' -or $name -match '\A[A-Za-z]:' -or $segments -contains '..') {
                Stop-Install 1 "$Archive holds the entry '$name', which points outside the directory it is extracted into; refused, and nothing was installed"
            }
            $unixType = ($entry.ExternalAttributes -shr 16) -band 0xF000
            $reparsePoint = ($entry.ExternalAttributes -band 0x400) -ne 0
            if (($unixType -ne 0 -and $unixType -ne 0x8000 -and $unixType -ne 0x4000) -or $reparsePoint) {
                Stop-Install 1 "$Archive holds a link or special file ('$name'), expected only regular files and directories: a link can make the installer write, chmod or run a file outside its directory. Refused, and nothing was installed"
            }
            if ($name -ceq 'ironclaw.exe') { $matching += $entry }
        }
        if ($matching.Count -ne 1) {
            Stop-Install 1 "$Archive holds $($matching.Count) entries named 'ironclaw.exe', expected exactly one. Nothing was installed"
        }
        if ($matching[0].Length -gt 536870912) {
            Stop-Install 1 "ironclaw.exe in $Archive is $($matching[0].Length) bytes, more than the installer takes (536870912). Nothing was installed"
        }
        $out = [System.IO.File]::Open($destination, [System.IO.FileMode]::CreateNew, [System.IO.FileAccess]::Write)
        $in = $matching[0].Open()
        try { $in.CopyTo($out) } finally { $in.Dispose(); $out.Dispose() }
    } finally {
        $zip.Dispose()
    }
    $destination
}

# Numbers as numbers, however long: 1 when X is the larger, -1 when Y is, 0 when equal.
function Compare-Numeric {
    param([string] $X, [string] $Y)
    $X = $X.TrimStart('0')
    $Y = $Y.TrimStart('0')
    if ($X.Length -ne $Y.Length) { return [Math]::Sign($X.Length - $Y.Length) }
    [Math]::Sign([string]::CompareOrdinal($X, $Y))
}

# Semantic versions, as version_newer in install.sh: 1 when A is newer than B, -1 when older, 0 when
# equal; a pre-release is older than its release, and its fields compare left to right.
function Compare-Version {
    param([string] $A, [string] $B)
    $aParts = $A -split '-', 2
    $bParts = $B -split '-', 2
    $aCore = $aParts[0] -split '\.'
    $bCore = $bParts[0] -split '\.'
    for ($i = 0; $i -lt 3; $i++) {
        $c = Compare-Numeric $aCore[$i] $bCore[$i]
        if ($c -ne 0) { return $c }
    }
    $aPre = if ($aParts.Count -gt 1) { $aParts[1] } else { '' }
    $bPre = if ($bParts.Count -gt 1) { $bParts[1] } else { '' }
    if ($aPre -eq '' -and $bPre -eq '') { return 0 }
    if ($aPre -eq '') { return 1 }
    if ($bPre -eq '') { return -1 }
    $aIds = $aPre -split '\.'
    $bIds = $bPre -split '\.'
    $n = [Math]::Min($aIds.Count, $bIds.Count)
    for ($i = 0; $i -lt $n; $i++) {
        $x = $aIds[$i]
        $y = $bIds[$i]
        if ($x -ceq $y) { continue }
        $xNumber = $x -cmatch '\A[0-9]+\z'
        $yNumber = $y -cmatch '\A[0-9]+\z'
        if ($xNumber -and $yNumber) { return (Compare-Numeric $x $y) }
        if ($xNumber) { return -1 }
        if ($yNumber) { return 1 }
        return [Math]::Sign([string]::CompareOrdinal($x, $y))
    }
    [Math]::Sign($aIds.Count - $bIds.Count)
}

# The ironclaw.exe already at the destination, if it runs and says a version newer than the release,
# is not replaced unless IRONCLAW_ALLOW_DOWNGRADE=1 (as in install.sh); checked before any download.
function Test-Downgrade {
    param([hashtable] $Settings, [string] $Tag, [string] $Version)
    $existing = Join-Path $Settings.InstallDir 'ironclaw.exe'
    if (-not (Test-Path -LiteralPath $existing -PathType Leaf)) { return }
    $ErrorActionPreference = 'Continue'
    try {
        $said = (& $existing --version 2>$null | Out-String).Trim()
        $status = $LASTEXITCODE
    } catch {
        return
    }
    $ErrorActionPreference = 'Stop'
    $said = $said -replace '\Av', ''
    if ($status -ne 0 -or $said -cnotmatch '\A[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?\z') { return }
    if ((Compare-Version $said $Version) -le 0) { return }
    if ($Settings.AllowDowngrade) {
        Write-Step "Downgrading: $existing is ironclaw $said, newer than $Version, and IRONCLAW_ALLOW_DOWNGRADE=1"
        return
    }
    Stop-Install 1 "$existing is ironclaw $said, newer than the release ${Tag}: the installer does not replace a newer ironclaw with an older one, which may have fixed flaws. Nothing was downloaded; to install $Version anyway, set IRONCLAW_ALLOW_DOWNGRADE=1"
}

function Test-Binary {
    param($Verifier, [string] $Executable, [hashtable] $Settings, [string] $Tag, [string] $Archive, [string] $Version, [string] $TempDir)
    if ($null -ne $Verifier) {
        if ($Verifier.Kind -eq 'ironclaw') {
            $arguments = @('verify-binary', $Executable) + (Get-IronClawPolicyArguments $Settings $Tag $TempDir)
            Invoke-Verifier $Verifier "the provenance of the ironclaw.exe inside $Archive" $arguments $Settings $Tag
        } else {
            Test-CosignProvenance $Verifier $Executable (Join-Path $TempDir "ironclaw_$Version.intoto.jsonl") $Settings $Tag $TempDir
        }
        Write-Step "Provenance OK: the ironclaw.exe inside $Archive was built by $($Settings.Repo)'s release workflow at $Tag"
    }
    # The checked executable must run here and say the version it was downloaded as.
    $ErrorActionPreference = 'Continue'
    try {
        $said = (& $Executable --version 2>&1 | Out-String).Trim()
        $status = $LASTEXITCODE
    } catch {
        $said = $_.Exception.Message
        $status = -1
    }
    if ($status -ne 0) {
        Stop-Install 3 "the ironclaw.exe in $Archive does not run on this machine ('ironclaw --version' said: $said). Nothing was installed"
    }
    if ($said -cne $Version) {
        Stop-Install 1 "the ironclaw.exe in $Archive says it is version '$said', expected $Version. Nothing was installed"
    }
}

# Copied beside its destination, then swapped in with one rename; a running old executable is moved aside.
function Install-Executable {
    param([string] $Executable, [string] $Dir, [string] $Version)
    try {
        New-Item -ItemType Directory -Force -Path $Dir | Out-Null
    } catch {
        Stop-Install 3 "cannot create ${Dir}: $($_.Exception.Message). Choose another with IRONCLAW_INSTALL_DIR"
    }
    $target = Join-Path $Dir 'ironclaw.exe'
    # A random name, created here (CreateNew fails on anything already there, a link included), and the
    # copy written into it: a pid-named file could be guessed, and a link planted there written through.
    $staged = Join-Path $Dir ".ironclaw.install.$([System.IO.Path]::GetRandomFileName()).exe"
    try {
        [System.IO.File]::Open($staged, [System.IO.FileMode]::CreateNew, [System.IO.FileAccess]::Write).Dispose()
        Copy-Item -LiteralPath $Executable -Destination $staged -Force
        if (Test-Path -LiteralPath $target) {
            # Windows lets a running executable be renamed but not overwritten: the old one becomes .old.
            [System.IO.File]::Replace($staged, $target, "$target.old")
            Remove-Item -LiteralPath "$target.old" -Force -ErrorAction SilentlyContinue
        } else {
            [System.IO.File]::Move($staged, $target)
        }
    } catch {
        Stop-Install 3 "cannot put the new ironclaw.exe into ${Dir}: $($_.Exception.GetBaseException().Message). Nothing was installed"
    } finally {
        if (Test-Path -LiteralPath $staged) { Remove-Item -LiteralPath $staged -Force -ErrorAction SilentlyContinue }
    }
    Write-Step "Installed ironclaw $Version at $target"
}

function Update-UserPath {
    param([string] $Dir)
    $same = { param($entry) $entry.Trim().TrimEnd('\') -eq $Dir.TrimEnd('\') }
    if (@($env:Path -split ';' | Where-Object { & $same $_ }).Count -gt 0) { return }
    if (-not [string]::IsNullOrEmpty($env:IRONCLAW_NO_MODIFY_PATH)) {
        Write-Step "$Dir is not on PATH; to use ironclaw, add it to your user PATH"
        return
    }
    $userPath = [Environment]::GetEnvironmentVariable('Path', 'User')
    if ($null -eq $userPath) { $userPath = '' }
    if (@($userPath -split ';' | Where-Object { & $same $_ }).Count -eq 0) {
        $joined = if ($userPath) { "$userPath;$Dir" } else { $Dir }
        try {
            [Environment]::SetEnvironmentVariable('Path', $joined, 'User')
        } catch {
            Write-Warning "could not add $Dir to your user PATH ($($_.Exception.Message)); add it by hand to use ironclaw"
            return
        }
    }
    $env:Path = "$env:Path;$Dir"
    Write-Step "Added $Dir to your user PATH; new terminals will find ironclaw"
}

function Invoke-Install {
    $settings = Read-Settings
    $target = Get-Target $settings
    Assert-HashTool
    Assert-InstallDir $settings.InstallDir
    $verifier = Find-Verifier $settings
    $tempDir = Join-Path ([System.IO.Path]::GetTempPath()) ("ironclaw-install." + [Guid]::NewGuid().ToString('N'))
    New-Item -ItemType Directory -Path $tempDir | Out-Null
    try {
        $tag = Resolve-Tag $settings $tempDir
        $version = $tag.Substring(1)
        Test-Downgrade $settings $tag $version
        $archive = "ironclaw_${version}_$target.zip"
        Get-Asset 'SHA256SUMS' 'without it the archive cannot be checked' $settings $tag $tempDir 16777216
        Get-Asset $archive "this release may have no build for $target" $settings $tag $tempDir 536870912
        $expected = Get-ExpectedChecksum (Join-Path $tempDir 'SHA256SUMS') $archive $tag $target
        $actual = Get-Sha256 (Join-Path $tempDir $archive)
        if ($actual -cne $expected) {
            Stop-Install 1 "checksum mismatch for ${archive}: SHA256SUMS says $expected, the download is $actual. It was changed or damaged on the way and nothing was installed; run the installer again, and report it if it happens twice"
        }
        Write-Step "Checksum OK: $archive matches SHA256SUMS (sha256 $actual)"
        Test-Signature $verifier $settings $tag $version $archive $tempDir
        $executable = Expand-Executable (Join-Path $tempDir $archive) $archive $tempDir
        Test-Binary $verifier $executable $settings $tag $archive $version $tempDir
        Install-Executable $executable $settings.InstallDir $version
        Update-UserPath $settings.InstallDir
    } finally {
        Remove-Item -LiteralPath $tempDir -Recurse -Force -ErrorAction SilentlyContinue
    }
}

# Failures print one line to standard error; a file run exits with the code, an `iex` run throws.
function Install-IronClaw {
    param([bool] $InvokedAsFile = $false)
    Set-StrictMode -Version 3.0
    $ErrorActionPreference = 'Stop'
    $ProgressPreference = 'SilentlyContinue'
    try {
        Invoke-Install
    } catch {
        $code = $_.Exception.Data['IronClawExitCode']
        if ($null -eq $code) { $code = 3 }
        # A tag, a Location or an entry name in the message came from the server or the archive: its
        # control and bidi characters become '?', so it cannot steer the terminal (install.sh's printable).
        $message = $_.Exception.Message -replace '[\p{Cc}\u200E\u200F\u202A-\u202E\u2066-\u2069]', '?'
        [Console]::Error.WriteLine("ironclaw install: error: $message")
        if ($InvokedAsFile) { exit $code }
        throw
    }
    if ($InvokedAsFile) { exit 0 }
}

Install-IronClaw -InvokedAsFile ([bool] $PSCommandPath)
