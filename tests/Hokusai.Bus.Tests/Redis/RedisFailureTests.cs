using System.IO.Pipelines;
using Xunit;

namespace Hokusai.Bus.Tests.Redis;

/// <summary>Which failures make a registration wait in RabbitMQ for Redis, rather than go to <c>_error</c>.</summary>
public sealed class RedisFailureTests
{
    [Fact]
    public async Task A_write_to_a_connection_pipe_already_closed_is_Redis_being_away_not_a_bad_message()
    {
        // What StackExchange.Redis let through when Redis stopped while a command was being written.
        var pipe = new Pipe();
        await pipe.Writer.CompleteAsync();
        var closed = Assert.Throws<InvalidOperationException>(() => pipe.Writer.GetMemory());

        Assert.True(RedisFailure.IsTransient(closed));
    }

    [Fact]
    public void Any_other_InvalidOperationException_is_not_Redis_being_away()
    {
        Assert.False(RedisFailure.IsTransient(new InvalidOperationException("a bug")));
    }
}
