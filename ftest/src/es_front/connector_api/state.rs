//! The connector protocol's enumerations and state machines, as Elasticsearch's `ent-search` module defines
//! them: `ConnectorStatus` with `ConnectorStateMachine`, `ConnectorSyncStatus` with
//! `ConnectorSyncJobStateMachine`, `ConnectorSyncJobType` and `ConnectorSyncJobTriggerMethod`. Names are the
//! lower-case wire values; unknown values fail with ES's `Unknown <Enum> [value].` wording, invalid
//! transitions with its `Invalid transition attempt from [a] to [b]. ...` wording.

/// `ConnectorStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConnectorStatus {
    Created,
    NeedsConfiguration,
    Configured,
    Connected,
    Error,
}

impl ConnectorStatus {
    const ALL: [ConnectorStatus; 5] = [
        ConnectorStatus::Created,
        ConnectorStatus::NeedsConfiguration,
        ConnectorStatus::Configured,
        ConnectorStatus::Connected,
        ConnectorStatus::Error,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ConnectorStatus::Created => "created",
            ConnectorStatus::NeedsConfiguration => "needs_configuration",
            ConnectorStatus::Configured => "configured",
            ConnectorStatus::Connected => "connected",
            ConnectorStatus::Error => "error",
        }
    }

    /// Case-insensitive, like `ConnectorStatus.connectorStatus`.
    pub(crate) fn parse(value: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(value))
            .ok_or_else(|| format!("Unknown ConnectorStatus [{value}]."))
    }

    /// `ConnectorStateMachine.VALID_TRANSITIONS` (ES 8.15+ / 9.x, which also allows staying in
    /// `configured`, `connected` and `error`).
    fn next_states(self) -> &'static [ConnectorStatus] {
        use ConnectorStatus::*;
        match self {
            Created => &[NeedsConfiguration, Error],
            NeedsConfiguration => &[Configured, Error],
            Configured => &[NeedsConfiguration, Configured, Connected, Error],
            Connected => &[Connected, Configured, Error],
            Error => &[Connected, Configured, Error],
        }
    }

    pub(crate) fn can_become(self, next: ConnectorStatus) -> bool {
        self.next_states().contains(&next)
    }

    /// `ConnectorStateMachine.assertValidStateTransition` with the message of
    /// `ConnectorInvalidStatusTransitionException`.
    pub(crate) fn check_transition(self, next: ConnectorStatus) -> Result<(), String> {
        if self.can_become(next) {
            Ok(())
        } else {
            Err(format!(
                "Invalid transition attempt from [{}] to [{}]. Such a status transition is not supported by the Connector Protocol.",
                self.as_str(),
                next.as_str()
            ))
        }
    }
}

/// `ConnectorSyncStatus`, the status of a sync job (and of a connector's last sync).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SyncStatus {
    Canceling,
    Canceled,
    Completed,
    Error,
    InProgress,
    Pending,
    Suspended,
}

impl SyncStatus {
    const ALL: [SyncStatus; 7] = [
        SyncStatus::Canceling,
        SyncStatus::Canceled,
        SyncStatus::Completed,
        SyncStatus::Error,
        SyncStatus::InProgress,
        SyncStatus::Pending,
        SyncStatus::Suspended,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SyncStatus::Canceling => "canceling",
            SyncStatus::Canceled => "canceled",
            SyncStatus::Completed => "completed",
            SyncStatus::Error => "error",
            SyncStatus::InProgress => "in_progress",
            SyncStatus::Pending => "pending",
            SyncStatus::Suspended => "suspended",
        }
    }

    pub(crate) fn parse(value: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(value))
            .ok_or_else(|| format!("Unknown ConnectorSyncStatus [{value}]."))
    }

    /// `ConnectorSyncJobStateMachine.VALID_TRANSITIONS`; `completed`, `canceled` and `error` are terminal.
    fn next_states(self) -> &'static [SyncStatus] {
        use SyncStatus::*;
        match self {
            Pending => &[InProgress, Canceled],
            InProgress => &[Canceling, Completed, Suspended, Error],
            Suspended => &[InProgress, Canceled],
            Canceling => &[Canceled, Error],
            Completed | Canceled | Error => &[],
        }
    }

    pub(crate) fn check_transition(self, next: SyncStatus) -> Result<(), String> {
        if self.next_states().contains(&next) {
            Ok(())
        } else {
            Err(format!(
                "Invalid transition attempt from [{}] to [{}]. Such a ConnectorSyncStatus transition is not supported by the Connector Protocol.",
                self.as_str(),
                next.as_str()
            ))
        }
    }
}

/// `ConnectorSyncJobType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JobType {
    Full,
    Incremental,
    AccessControl,
}

impl JobType {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            JobType::Full => "full",
            JobType::Incremental => "incremental",
            JobType::AccessControl => "access_control",
        }
    }

    pub(crate) fn parse(value: &str) -> Result<Self, String> {
        [JobType::Full, JobType::Incremental, JobType::AccessControl]
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(value))
            .ok_or_else(|| format!("Unknown ConnectorSyncJobType [{value}]."))
    }
}

/// `ConnectorSyncJobTriggerMethod`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TriggerMethod {
    OnDemand,
    Scheduled,
}

impl TriggerMethod {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            TriggerMethod::OnDemand => "on_demand",
            TriggerMethod::Scheduled => "scheduled",
        }
    }

    pub(crate) fn parse(value: &str) -> Result<Self, String> {
        [TriggerMethod::OnDemand, TriggerMethod::Scheduled]
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(value))
            .ok_or_else(|| format!("Unknown ConnectorSyncJobTriggerMethod [{value}]."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connector_transitions_follow_es() {
        use ConnectorStatus::*;
        assert!(Created.can_become(NeedsConfiguration));
        assert!(Created.can_become(Error));
        assert!(!Created.can_become(Connected));
        assert!(!Created.can_become(Configured));
        assert!(NeedsConfiguration.can_become(Configured));
        assert!(!NeedsConfiguration.can_become(Connected));
        assert!(Configured.can_become(Connected));
        assert!(Connected.can_become(Connected));
        assert!(!Connected.can_become(NeedsConfiguration));
        assert!(Error.can_become(Configured));
        assert_eq!(
            Created.check_transition(Connected).unwrap_err(),
            "Invalid transition attempt from [created] to [connected]. Such a status transition is not supported by the Connector Protocol."
        );
    }

    #[test]
    fn sync_transitions_follow_es() {
        use SyncStatus::*;
        assert!(Pending.check_transition(InProgress).is_ok());
        assert!(Suspended.check_transition(InProgress).is_ok());
        assert!(InProgress.check_transition(InProgress).is_err());
        assert!(Pending.check_transition(Error).is_err());
        assert!(Canceling.check_transition(Error).is_ok());
        assert!(Completed.check_transition(Canceling).is_err());
    }

    #[test]
    fn parsing_is_case_insensitive_with_es_errors() {
        assert_eq!(
            ConnectorStatus::parse("NEEDS_CONFIGURATION"),
            Ok(ConnectorStatus::NeedsConfiguration)
        );
        assert_eq!(
            SyncStatus::parse("nope").unwrap_err(),
            "Unknown ConnectorSyncStatus [nope]."
        );
        assert_eq!(JobType::parse("access_control"), Ok(JobType::AccessControl));
        assert_eq!(
            TriggerMethod::parse("x").unwrap_err(),
            "Unknown ConnectorSyncJobTriggerMethod [x]."
        );
    }
}
